//! The operator's HTTP services, driven by curl and checked by openssl: autoconfiguration over
//! HTTPS, CRL distribution points (and their outages), the control API.

mod support;

use std::time::Duration;

use operator::journal::EventKind;
use operator::tls::weak::Weakness;
use operator::{Faults, TlsProfile};
use support::*;

async fn curl(args: &[&str]) -> Output {
    run("curl", args.iter().map(|a| a.to_string()).collect(), None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autoconfig_describes_both_entry_points_with_the_bound_ports() {
    if !have("curl") {
        return;
    }
    let f = start().await;
    let a = f.op.addresses();
    let url = format!("https://127.0.0.1:{}/mail/config-v1.1.xml", a.https.port());
    let out = curl(&["-sS", "--fail", "--cacert", &s(&f.root()), &url]).await;
    assert!(out.ok, "{}", out.all());
    let xml = out.stdout;
    for needle in [
        "<clientConfig version=\"1.1\">".to_owned(),
        "<domain>operateur-fictif.mssante.fr</domain>".to_owned(),
        "<hostname>mail-psc.operateur-fictif.mssante.fr</hostname>".to_owned(),
        "<hostname>mail-authcli.operateur-fictif.mssante.fr</hostname>".to_owned(),
        format!("<port>{}</port>", a.psc_imap.port()),
        format!("<port>{}</port>", a.psc_smtp.port()),
        format!("<port>{}</port>", a.app_imap.port()),
        format!("<port>{}</port>", a.app_smtp.port()),
        "<authentication>OAuth2</authentication>".to_owned(),
        "<authentication>TLS-client-cert</authentication>".to_owned(),
        "<socketType>STARTTLS</socketType>".to_owned(),
    ] {
        assert!(xml.contains(&needle), "{needle} in {xml}");
    }
    // Python's XML parser reads it.
    if have("python3") {
        let out = run(
            "python3",
            vec![
                "-c".into(),
                "import sys, xml.etree.ElementTree as E; r = E.fromstring(sys.stdin.read()); print(len(r.findall('.//incomingServer')), len(r.findall('.//outgoingServer')))".into(),
            ],
            Some(xml.into_bytes()),
        )
        .await;
        assert_eq!(out.stdout.trim(), "2 2", "{}", out.all());
    }
    f.op.journal()
        .wait_for(0, Duration::from_secs(5), |e| {
            matches!(&e.kind, EventKind::HttpRequest { tls: true, path, status: 200, .. } if path == "/mail/config-v1.1.xml")
        })
        .await
        .expect("autoconfig request journaled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crls_are_served_where_the_certificates_say_and_can_fail() {
    if !have("curl") || !have("openssl") {
        return;
    }
    let f = start().await;
    let port = f.op.addresses().http.port();
    let url = format!("http://127.0.0.1:{port}/igc-sante/ac-elementaire-organisations.crl");
    let file = f.data.path().join("downloaded.crl");
    let out = curl(&["-sS", "--fail", "-o", &s(&file), &url]).await;
    assert!(out.ok, "{}", out.all());
    let out = run(
        "openssl",
        [
            "crl",
            "-inform",
            "DER",
            "-in",
            &s(&file),
            "-CAfile",
            &s(&f.pki.files().organisations_cert),
            "-noout",
        ]
        .map(str::to_owned)
        .to_vec(),
        None,
    )
    .await;
    assert!(out.all().contains("verify OK"), "{}", out.all());
    // The distribution point written in the certificates is this path.
    let out = run(
        "openssl",
        [
            "x509",
            "-in",
            &s(&f.pki.files().server_cert),
            "-noout",
            "-ext",
            "crlDistributionPoints",
        ]
        .map(str::to_owned)
        .to_vec(),
        None,
    )
    .await;
    assert!(
        out.stdout
            .contains("/igc-sante/ac-elementaire-organisations.crl"),
        "{}",
        out.all()
    );

    f.op.set_faults(Faults {
        crl: Some(operator::faults::Outage::Unavailable),
        ..Faults::default()
    });
    let out = curl(&["-sS", "-o", "/dev/null", "-w", "%{http_code}", &url]).await;
    assert_eq!(out.stdout, "503", "{}", out.all());

    f.op.set_faults(Faults {
        crl: Some(operator::faults::Outage::Hang),
        ..Faults::default()
    });
    let out = curl(&["-sS", "--max-time", "1", &url]).await;
    assert!(!out.ok && out.stderr.contains("timed out"), "{}", out.all());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_api_switches_profiles_and_faults_and_streams_the_journal() {
    if !have("curl") {
        return;
    }
    let f = start().await;
    let api = format!("http://127.0.0.1:{}/api", f.op.addresses().http.port());
    let put = |path: &str, body: &str| {
        let url = format!("{api}{path}");
        let body = body.to_owned();
        async move {
            curl(&[
                "-sS",
                "-X",
                "PUT",
                "-H",
                "Content-Type: application/json",
                "-d",
                &body,
                "-w",
                "\n%{http_code}",
                &url,
            ])
            .await
        }
    };
    let out = put("/tls-profile", r#"{"profile":"tls10-only"}"#).await;
    assert!(out.stdout.ends_with("200"), "{}", out.all());
    assert_eq!(f.op.tls_profile(), TlsProfile::Weak(Weakness::Tls10Only));
    let out = put("/tls-profile", r#"{"profile":"sslv2"}"#).await;
    assert!(
        out.stdout.ends_with("400") && out.stdout.contains("tls10-only"),
        "{}",
        out.all()
    );

    let out = put(
        "/faults",
        r#"{"refuse_next_auth": 2, "close_after": 1.5, "crl": "hang"}"#,
    )
    .await;
    assert!(out.stdout.ends_with("200"), "{}", out.all());
    let faults = f.op.faults();
    assert_eq!(faults.refuse_next_auth, 2);
    assert_eq!(faults.close_after, Some(Duration::from_millis(1500)));
    let out = put("/faults", r#"{"refuse_next_auth": "beaucoup"}"#).await;
    assert!(
        out.stdout.ends_with("422") || out.stdout.ends_with("400"),
        "{}",
        out.all()
    );
    let out = put("/faults", r#"{"close_after": -3}"#).await;
    assert!(!out.stdout.ends_with("200"), "{}", out.all());

    // Long poll: a request waiting for the next event returns when a message is delivered.
    let after = f.op.journal().len();
    let poll_url = format!("{api}/journal?after={after}&wait=10");
    let poll = tokio::spawn(async move { curl(&["-sS", &poll_url]).await });
    // The poll asks for events after a fixed position: whichever of the two requests the
    // operator serves first, the poll returns the delivery.
    let deliver = curl(&[
        "-sS", "-X", "POST", "-H", "Content-Type: application/json",
        "-d", r#"{"bal":"marie.martin@operateur-fictif.mssante.fr","message":"Message-ID: <api-1@x>\r\nSubject: s\r\n\r\nb\r\n"}"#,
        &format!("{api}/deliver"),
    ])
    .await;
    assert!(deliver.stdout.contains("path"), "{}", deliver.all());
    let polled = poll.await.expect("poll");
    let value: serde_json::Value = serde_json::from_str(&polled.stdout).expect("journal JSON");
    let events = value["events"].as_array().expect("events");
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "message_injected" && e["message_id"] == "api-1@x"),
        "{value}"
    );

    let out = curl(&[
        "-sS",
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"bal":"personne@operateur-fictif.mssante.fr","message":"x"}"#,
        "-w",
        "\n%{http_code}",
        &format!("{api}/deliver"),
    ])
    .await;
    assert!(out.stdout.ends_with("404"), "{}", out.all());

    let out = curl(&[
        "-sS",
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"professional":"810000000001"}"#,
        &format!("{api}/psc/token"),
    ])
    .await;
    let token: serde_json::Value = serde_json::from_str(&out.stdout).expect("token JSON");
    let jwt = token["access_token"].as_str().expect("token");
    assert!(f.op.psc().validate(jwt).is_ok());

    let out = curl(&["-sS", "-X", "POST", &format!("{api}/reset")]).await;
    assert!(out.ok, "{}", out.all());
    assert_eq!(f.op.tls_profile(), TlsProfile::Good);
    assert_eq!(f.op.faults(), Faults::default());

    let state: serde_json::Value =
        serde_json::from_str(&curl(&["-sS", &format!("{api}/state")]).await.stdout).expect("state");
    assert_eq!(state["tls_profile"], "good");
    assert_eq!(
        state["tls_profiles"].as_array().map(Vec::len),
        Some(TlsProfile::all().len())
    );
}
