//! The documents the rules read and write, checked by tools nobody here wrote: poppler
//! (`pdftotext`, `pdffonts`, `pdfinfo`), `qpdf --check`, `unzip -t`, `xmllint`, and Python's
//! `email` package. Our judgements (text, embedded fonts, PDF/A identification) must agree with
//! theirs.

use std::path::Path;
use std::process::Command;

use documents::{build, fixtures};
use rules::Message;
use rules::health::pdf;

/// Whether a tool is installed; in CI (`MSS_REQUIRE_INTEROP=1`) a missing one fails the test.
fn have(tool: &str) -> bool {
    let found = Command::new(tool).arg("-v").output().is_ok()
        || Command::new(tool).arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("MSS_REQUIRE_INTEROP").is_none(),
            "{tool} is required for the interoperability tests (installed by .ci/run)"
        );
        eprintln!("SKIPPED: {tool} is not installed (see .ci/run)");
    }
    found
}

fn run(tool: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    path.display().to_string()
}

#[test]
fn poppler_reads_our_pdfa_as_we_do() {
    if !have("pdftotext") || !have("pdffonts") || !have("pdfinfo") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let doc = fixtures::biology_n3();
    let bytes = build::pdf(&doc, &fixtures::patient());
    let file = write(dir.path(), "n3.pdf", &bytes);

    let (ok, text) = run("pdftotext", &["-enc", "UTF-8", &file, "-"]);
    assert!(ok, "{text}");
    for expected in [
        "Compte rendu d'examens de biologie médicale",
        "Hémoglobine : 13,5 g/dL",
        "Laboratoire de biologie Hôpital A",
        "Dr Marie MARTIN",
    ] {
        assert!(
            text.contains(expected),
            "poppler lacks « {expected} »:\n{text}"
        );
    }
    let ours = pdf::inspect(&bytes).expect("ours").text.expect("text");
    let words = |s: &str| rules::text::words(s);
    assert_eq!(words(&ours), words(&text), "same words as poppler");

    let (ok, fonts) = run("pdffonts", &[&file]);
    assert!(ok, "{fonts}");
    let line = fonts
        .lines()
        .find(|l| l.contains("Type 3"))
        .unwrap_or_else(|| panic!("{fonts}"));
    assert!(
        line.split_whitespace().any(|w| w == "yes"),
        "poppler says embedded: {line}"
    );

    let (ok, meta) = run("pdfinfo", &["-meta", &file]);
    assert!(
        ok && meta.contains("<pdfaid:part>1</pdfaid:part>"),
        "{meta}"
    );
}

#[test]
fn poppler_agrees_on_unembedded_fonts() {
    if !have("pdffonts") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let case = fixtures::cases()
        .into_iter()
        .find(|c| c.name == "2.1.5-police-non-incorporee")
        .expect("case");
    let message = Message::parse(&case.bytes).expect("parse");
    let pdf_bytes = &message.health().pdfs[0].content;
    let ours = pdf::inspect(pdf_bytes).expect("ours");
    assert_eq!(ours.fonts_not_embedded, vec!["Helvetica".to_owned()]);
    let file = write(dir.path(), "helvetica.pdf", pdf_bytes);
    let (ok, fonts) = run("pdffonts", &[&file]);
    assert!(ok, "{fonts}");
    let line = fonts
        .lines()
        .find(|l| l.starts_with("Helvetica"))
        .unwrap_or_else(|| panic!("{fonts}"));
    let columns: Vec<&str> = line.split_whitespace().collect();
    // name type encoding emb sub uni object ID: "Helvetica Type 1 WinAnsi no no no 4 0"
    assert!(columns.contains(&"no"), "poppler says not embedded: {line}");
}

#[test]
fn qpdf_finds_our_pdfs_structurally_sound() {
    if !have("qpdf") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let p = fixtures::patient();
    for (i, doc) in [fixtures::biology_n3(), fixtures::letter_n1()]
        .iter()
        .enumerate()
    {
        let file = write(dir.path(), &format!("{i}.pdf"), &build::pdf(doc, &p));
        let (ok, out) = run("qpdf", &["--check", &file]);
        assert!(
            ok && out.contains("No syntax or stream encoding errors"),
            "{out}"
        );
    }
}

#[test]
fn unzip_and_xmllint_accept_our_xdm() {
    if !have("unzip") || !have("xmllint") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let p = fixtures::patient();
    let zip = write(
        dir.path(),
        "IHE_XDM.ZIP",
        &build::xdm(&[fixtures::biology_n3(), fixtures::letter_n1()], &p),
    );
    let (ok, out) = run("unzip", &["-t", &zip]);
    assert!(ok && out.contains("No errors detected"), "{out}");
    let (ok, out) = run(
        "unzip",
        &["-o", "-q", &zip, "-d", &dir.path().display().to_string()],
    );
    assert!(ok, "{out}");
    for file in [
        "IHE_XDM/SUBSET01/METADATA.XML",
        "IHE_XDM/SUBSET01/DOC0001.XML",
        "IHE_XDM/SUBSET01/DOC0002.XML",
    ] {
        let path = dir.path().join(file).display().to_string();
        let (ok, out) = run("xmllint", &["--noout", "--nonet", &path]);
        assert!(ok, "{file}: {out}");
    }
    let (ok, out) = run(
        "xmllint",
        &[
            "--html",
            "--noout",
            &dir.path().join("INDEX.HTM").display().to_string(),
        ],
    );
    assert!(ok, "INDEX.HTM: {out}");
    // What we read of the CDA is what xmllint reads.
    let doc = dir
        .path()
        .join("IHE_XDM/SUBSET01/DOC0001.XML")
        .display()
        .to_string();
    let (ok, code) = run(
        "xmllint",
        &[
            "--xpath",
            "string(/*[local-name()='ClinicalDocument']/*[local-name()='code']/@code)",
            &doc,
        ],
    );
    assert!(ok, "{code}");
    let cda = rules::health::cda::parse(&std::fs::read(&doc).expect("read")).expect("cda");
    assert_eq!(cda.code.as_deref(), Some(code.trim()));
}

#[test]
fn python_email_reads_our_messages() {
    if !have("python3") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let eml = write(
        dir.path(),
        "m.eml",
        &fixtures::compose(&fixtures::with_documents(
            &[fixtures::biology_n3()],
            &fixtures::patient(),
        )),
    );
    let script = r#"
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
assert m["X-MSS-CODECDA"] == "11502-2", m["X-MSS-CODECDA"]
assert m["Subject"].startswith("XDM/1.0/DDM+CR d'examens biologiques MULLER-DUPRE"), m["Subject"]
names = [p.get_filename() for p in m.iter_attachments()]
assert names == ["IHE_XDM.ZIP", "20261102_CR d'examens biologiques_MULLER-DUPRE_Hélène.pdf"], names
body = m.get_body(("plain",))
assert body.get_content_charset() == "utf-8"
print("OK")
"#;
    let (ok, out) = run("python3", &["-c", script, &eml]);
    assert!(ok && out.contains("OK"), "{out}");
}
