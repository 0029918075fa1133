//! The fake IGC Santé must be accepted by a tool nobody here wrote: `openssl verify` and
//! `openssl crl`, as an editor would check the files before installing them in a SUT.

use std::path::Path;
use std::process::Command;

use pki::{Profile, Structure};

fn profile() -> Profile {
    Profile {
        server_dns_names: vec![
            "mail-psc.operateur-test.mssante.fr".into(),
            "localhost".into(),
        ],
        server_ips: vec!["127.0.0.1".parse().expect("ip")],
        server_organisation: "OPERATEUR FICTIF MSSANTE".into(),
        crl_base_url: "http://crl.operateur-test.mssante.fr".into(),
        ocsp_url: "http://ocsp.operateur-test.mssante.fr/ocsp".into(),
        structures: vec![Structure {
            id_nat_struc: "1750000001".into(),
            name: "CENTRE HOSPITALIER FICTIF".into(),
            department: "Paris (75)".into(),
        }],
    }
}

/// Runs openssl and returns (success, stdout + stderr).
fn openssl(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl must be installed (see .ci/run)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn openssl_verifies_the_chains_and_the_crls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (pki, _) = pki::ensure(dir.path(), &profile()).expect("generate");
    let f = pki.files();
    let (client_cert, _) = f.client("1750000001");

    for (leaf, purpose) in [(&f.server_cert, "sslserver"), (&client_cert, "sslclient")] {
        let (ok, out) = openssl(&[
            "verify",
            "-purpose",
            purpose,
            "-CAfile",
            s(&f.root_cert),
            "-untrusted",
            s(&f.organisations_cert),
            s(leaf),
        ]);
        assert!(ok && out.contains(": OK"), "{purpose}: {out}");

        // With revocation checking on the whole chain, using our CRLs.
        let (ok, out) = openssl(&[
            "verify",
            "-crl_check_all",
            "-purpose",
            purpose,
            "-CAfile",
            s(&f.root_cert),
            "-untrusted",
            s(&f.organisations_cert),
            "-CRLfile",
            s(&f.root_crl),
            "-CRLfile",
            s(&f.organisations_crl),
            s(leaf),
        ]);
        assert!(ok && out.contains(": OK"), "{purpose} with CRLs: {out}");
    }

    for (crl, issuer) in [
        (&f.root_crl, &f.root_cert),
        (&f.organisations_crl, &f.organisations_cert),
    ] {
        let (ok, out) = openssl(&["crl", "-in", s(crl), "-CAfile", s(issuer), "-noout"]);
        assert!(ok && out.contains("verify OK"), "{out}");
    }
}

#[test]
fn openssl_reads_the_names_the_referentiel_asks_for() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (pki, _) = pki::ensure(dir.path(), &profile()).expect("generate");
    let f = pki.files();
    let (client_cert, _) = f.client("1750000001");

    let (ok, out) = openssl(&[
        "x509",
        "-in",
        s(&client_cert),
        "-noout",
        "-subject",
        "-issuer",
        "-nameopt",
        "RFC2253,-esc_msb",
    ]);
    assert!(ok, "{out}");
    assert!(
        out.contains(
            "subject=CN=Authentification MSS,OU=1750000001,O=CENTRE HOSPITALIER FICTIF,ST=Paris (75),C=FR"
        ),
        "{out}"
    );
    assert!(
        out.contains("CN=TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS"),
        "{out}"
    );

    let (ok, out) = openssl(&["x509", "-in", s(&f.root_cert), "-noout", "-text"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("CN = TEST AC RACINE IGC-SANTE ELEMENTAIRE"),
        "{out}"
    );
    assert!(out.contains("Public-Key: (2048 bit)"), "{out}");
    assert!(out.contains("sha256WithRSAEncryption"), "{out}");

    let (ok, out) = openssl(&[
        "x509",
        "-in",
        s(&f.server_cert),
        "-noout",
        "-ext",
        "subjectAltName",
    ]);
    assert!(ok, "{out}");
    assert!(
        out.contains("DNS:mail-psc.operateur-test.mssante.fr")
            && out.contains("IP Address:127.0.0.1"),
        "{out}"
    );
}

#[test]
fn each_hostile_certificate_fails_for_its_own_reason() {
    use pki::hostile::Flaw;
    let dir = tempfile::tempdir().expect("tempdir");
    let (pki, _) = pki::ensure(dir.path(), &profile()).expect("generate");
    let f = pki.files();
    let write = |name: &str, pem: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, pem).expect("write");
        p
    };
    let crls = [
        s(&f.root_crl).to_owned(),
        s(&f.organisations_crl).to_owned(),
    ];
    // openssl verify with the Elementaire root only, CRLs checked: (flaw, expected error or OK).
    let cases = [
        (Flaw::Expired, "certificate has expired"),
        (Flaw::NotYetValid, "certificate is not yet valid"),
        (Flaw::Revoked, "certificate revoked"),
        (Flaw::WrongHost, ": OK"),
        // Same root, other range: the chain is valid; ECO.1.1.10 is what makes it unacceptable.
        (Flaw::Personnes, ": OK"),
        (Flaw::Standard, "unable to get local issuer certificate"),
        (Flaw::Commercial, "unable to get local issuer certificate"),
    ];
    for (flaw, expected) in cases {
        let cred = &pki.hostile.servers[&flaw];
        let leaf = write(&format!("server-{}.pem", flaw.state()), &cred.cert.pem);
        let chain: String = cred.intermediates.iter().map(|c| c.pem.clone()).collect();
        let untrusted = write(&format!("chain-{}.pem", flaw.state()), &chain);
        let mut args = vec!["verify", "-CAfile", s(&f.root_cert)];
        if !chain.is_empty() {
            args.extend(["-untrusted", s(&untrusted)]);
        }
        if matches!(flaw, Flaw::Revoked | Flaw::Expired | Flaw::NotYetValid) {
            args.extend(["-crl_check", "-CRLfile", &crls[1]]);
        }
        args.push(s(&leaf));
        let (_, out) = openssl(&args);
        assert!(out.contains(expected), "{flaw:?}: {out}");
    }
    // The wrong-host certificate does not name the operator.
    let wrong = write("wrong.pem", &pki.hostile.servers[&Flaw::WrongHost].cert.pem);
    let (_, out) = openssl(&[
        "verify",
        "-CAfile",
        s(&f.root_cert),
        "-untrusted",
        s(&f.organisations_cert),
        "-verify_hostname",
        "mail-psc.operateur-test.mssante.fr",
        s(&wrong),
    ]);
    assert!(out.contains("hostname mismatch"), "{out}");
    // The CRL lists exactly the revoked server and client certificates.
    let revoked = pki::inspect::crl_revoked_serials(&pki.organisations_crl.der).expect("crl");
    let serial = |c: &pki::Credential| pki::inspect::summarize(&c.cert.der).expect("cert").serial;
    assert_eq!(revoked.len(), 2);
    assert!(revoked.contains(&serial(&pki.hostile.servers[&Flaw::Revoked])));
    assert!(revoked.contains(&serial(&pki.hostile.clients[&Flaw::Revoked])));
    // Hostile client certificates still name the structure: only their flaw differs.
    for (flaw, cred) in &pki.hostile.clients {
        let summary = pki::inspect::summarize(&cred.cert.der).expect("client");
        assert_eq!(
            summary.subject_ou,
            vec!["1750000001".to_owned()],
            "{flaw:?}"
        );
    }
}
