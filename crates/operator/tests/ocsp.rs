//! The OCSP responder (RFC 6960) as `openssl ocsp` sees it: signed by the Elementaire
//! Organisations CA, nonce echoed, good / revoked / unknown as the CRL and the issued
//! certificates say; the certificates name it in their Authority Information Access.

mod support;

use operator::Faults;
use operator::journal::EventKind;
use pki::hostile::Flaw;
use support::*;

async fn ask(f: &Fixture, cert_pem: &str, name: &str) -> Output {
    let cert = f.data.path().join(format!("{name}.pem"));
    std::fs::write(&cert, cert_pem).expect("write");
    let files = f.pki.files();
    let url = format!("http://127.0.0.1:{}/ocsp", f.op.addresses().http.port());
    run(
        "openssl",
        [
            "ocsp",
            "-issuer",
            &s(&files.organisations_cert),
            "-cert",
            &s(&cert),
            "-url",
            &url,
            "-CAfile",
            &s(&files.root_cert),
        ]
        .map(str::to_owned)
        .to_vec(),
        None,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_ocsp_gets_signed_answers() {
    if !have("openssl") {
        return;
    }
    let f = start().await;
    let good = ask(&f, &f.pki.server.cert.pem, "server").await.all();
    assert!(good.contains("Response verify OK"), "{good}");
    assert!(good.contains("server.pem: good"), "{good}");
    assert!(!good.contains("WARNING: no nonce"), "nonce echoed: {good}");

    let revoked = ask(
        &f,
        &f.pki.hostile.servers[&Flaw::Revoked].cert.pem,
        "revoked",
    )
    .await
    .all();
    assert!(
        revoked.contains("Response verify OK") && revoked.contains("revoked.pem: revoked"),
        "{revoked}"
    );

    let client = ask(
        &f,
        &f.pki.client_for(APP_STRUCTURE).expect("client").cert.pem,
        "client",
    )
    .await
    .all();
    assert!(client.contains("client.pem: good"), "{client}");

    // A certificate of another CA, asked as if from ours: unknown to this responder.
    let foreign = ask(
        &f,
        &f.pki.hostile.servers[&Flaw::Commercial].cert.pem,
        "foreign",
    )
    .await
    .all();
    assert!(foreign.contains("foreign.pem: unknown"), "{foreign}");

    let answered: Vec<Vec<String>> =
        f.op.journal()
            .snapshot()
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::OcspAnswered { certificates } => {
                    Some(certificates.iter().map(|(_, s)| s.clone()).collect())
                }
                _ => None,
            })
            .collect();
    assert_eq!(
        answered,
        vec![vec!["good"], vec!["revoked"], vec!["good"], vec!["unknown"]]
    );

    f.op.set_faults(Faults {
        ocsp: Some(operator::faults::Outage::Unavailable),
        ..Faults::default()
    });
    let down = ask(&f, &f.pki.server.cert.pem, "server").await;
    assert!(!down.ok, "{}", down.all());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_name_the_responder_and_garbage_is_malformed() {
    if !have("openssl") || !have("curl") {
        return;
    }
    let f = start().await;
    let out = run(
        "openssl",
        [
            "x509",
            "-in",
            &s(&f.pki.files().server_cert),
            "-noout",
            "-ocsp_uri",
        ]
        .map(str::to_owned)
        .to_vec(),
        None,
    )
    .await;
    assert_eq!(
        out.stdout.trim(),
        "http://ocsp.operateur-fictif.mssante.fr/ocsp",
        "{}",
        out.all()
    );
    let url = format!("http://127.0.0.1:{}/ocsp", f.op.addresses().http.port());
    let out = run(
        "curl",
        [
            "-sS",
            "--data-binary",
            "not DER",
            "-H",
            "Content-Type: application/ocsp-request",
            &url,
        ]
        .map(str::to_owned)
        .to_vec(),
        None,
    )
    .await;
    // OCSPResponse { responseStatus malformedRequest(1) }
    assert_eq!(
        out.stdout.as_bytes(),
        [0x30, 0x03, 0x0a, 0x01, 0x01],
        "{}",
        out.all()
    );
}
