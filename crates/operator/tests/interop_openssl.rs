//! `openssl s_client -starttls` against the operator: it sees our certificate chain, completes
//! TLS 1.2 with an ECO.1.1.3 suite and TLS 1.3, and is refused anything weaker.

mod support;

use std::time::Duration;

use operator::journal::EventKind;
use support::*;

async fn s_client(port: u16, proto: &str, root: &str, extra: &[&str]) -> Output {
    let mut args: Vec<String> = vec![
        "s_client".into(),
        "-starttls".into(),
        proto.into(),
        "-connect".into(),
        format!("127.0.0.1:{port}"),
        "-CAfile".into(),
        root.into(),
        "-verify_return_error".into(),
        "-brief".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    // An immediate EOF on stdin makes s_client close right after the handshake.
    run("openssl", args, Some(Vec::new())).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s_client_sees_the_igc_sante_chain_over_smtp_and_imap() {
    if !have("openssl") {
        return;
    }
    let f = start().await;
    let a = f.op.addresses();
    let root = s(&f.root());
    for (port, proto) in [(a.psc_smtp.port(), "smtp"), (a.psc_imap.port(), "imap")] {
        let out = s_client(port, proto, &root, &[]).await;
        let text = out.all();
        assert!(text.contains("Verification: OK"), "{proto}: {text}");
        assert!(
            text.contains("Protocol version: TLSv1.3"),
            "{proto}: {text}"
        );
        assert!(
            text.contains("CN = mail-psc.operateur-fictif.mssante.fr"),
            "{proto}: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls12_uses_only_the_referentiel_suites() {
    if !have("openssl") {
        return;
    }
    let f = start().await;
    let port = f.op.addresses().psc_smtp.port();
    let root = s(&f.root());
    // All six suites of ECO.1.1.3, each offered alone: a client that implements only one of
    // them is served (the four rustls lacks by OpenSSL), DHE with a 2,048-bit group.
    for (cipher, iana, group) in [
        ("ECDHE-RSA-AES256-GCM-SHA384", 0xC030u16, "secp"),
        ("ECDHE-RSA-AES128-GCM-SHA256", 0xC02F, "secp"),
        ("ECDHE-RSA-AES256-SHA384", 0xC028, "secp"),
        ("ECDHE-RSA-AES128-SHA256", 0xC027, "secp"),
        ("DHE-RSA-AES256-GCM-SHA384", 0x009F, "DH 2048 bits"),
        ("DHE-RSA-AES128-GCM-SHA256", 0x009E, "DH 2048 bits"),
    ] {
        let out = s_client(port, "smtp", &root, &["-tls1_2", "-cipher", cipher]).await;
        let text = out.all();
        assert!(
            text.contains("Protocol version: TLSv1.2") && text.contains(cipher),
            "{cipher}: {text}"
        );
        // The operator journals the handshake on its side: wait for it.
        f.op.journal()
            .wait_for(0, Duration::from_secs(5), |e| {
                matches!(
                    &e.kind,
                    EventKind::TlsEstablished { version, cipher_suite, group: Some(g), .. }
                        if version == "TLS 1.2" && cipher_suite.code == iana && g.starts_with(group)
                )
            })
            .await
            .unwrap_or_else(|_| panic!("{cipher} journaled"));
    }
    // Off-list suites, CHACHA20, TLS 1.1 and X25519-only are refused by the operator.
    for extra in [
        &["-tls1_2", "-cipher", "AES128-SHA"][..],
        &["-tls1_2", "-cipher", "ECDHE-RSA-CHACHA20-POLY1305"][..],
        &["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"][..],
        &["-groups", "X25519"][..],
    ] {
        let out = s_client(port, "smtp", &root, extra).await;
        let text = out.all();
        assert!(!text.contains("Verification: OK"), "{extra:?}: {text}");
    }
    // Each refusal is journaled as a failed handshake: wait for the four of them.
    let mut after = 0;
    for n in 1..=4 {
        after =
            f.op.journal()
                .wait_for(after, Duration::from_secs(5), |e| {
                    matches!(e.kind, EventKind::TlsFailed { .. })
                })
                .await
                .unwrap_or_else(|_| panic!("failed handshake n°{n} journaled"))
                .seq;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_hello_is_journaled() {
    if !have("openssl") {
        return;
    }
    let f = start().await;
    let port = f.op.addresses().psc_imap.port();
    let out = s_client(
        port,
        "imap",
        &s(&f.root()),
        &[
            "-tls1_2",
            "-servername",
            "mail-psc.operateur-fictif.mssante.fr",
        ],
    )
    .await;
    assert!(out.all().contains("Verification: OK"), "{}", out.all());
    let hello =
        f.op.journal()
            .snapshot()
            .iter()
            .find_map(|e| match &e.kind {
                EventKind::TlsClientHello(h) => Some(h.clone()),
                _ => None,
            })
            .expect("ClientHello journaled");
    assert_eq!(
        hello.sni.as_deref(),
        Some("mail-psc.operateur-fictif.mssante.fr")
    );
    assert!(hello.versions.contains(&"TLS 1.2".to_owned()), "{hello:?}");
    assert!(
        hello.cipher_suites.iter().any(|c| c.code == 0xC030),
        "{hello:?}"
    );
    assert!(hello.groups.contains(&"secp256r1".to_owned()), "{hello:?}");
}

/// Every TLS profile is a real handshake: a lax client (s_client without verification)
/// completes it, and sees what is wrong.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lax_client_completes_every_hostile_profile() {
    use operator::TlsProfile;
    use operator::tls::weak::Weakness;
    use pki::hostile::Flaw;
    if !have("openssl") {
        return;
    }
    let f = start().await;
    let port = f.op.addresses().psc_smtp.port();
    let root = s(&f.root());
    for profile in TlsProfile::all() {
        if profile == TlsProfile::NoStartTls {
            continue;
        }
        f.op.set_tls_profile(profile);
        let mark = f.op.journal().len() as u64;
        // No -verify_return_error: s_client goes on whatever the certificate; for the weak
        // profiles it also has to be told to accept weak cryptography.
        let lax: &[&str] = match profile {
            TlsProfile::Weak(Weakness::Tls10Only) => &["-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"],
            TlsProfile::Weak(Weakness::Tls11Only) => &["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"],
            TlsProfile::Weak(Weakness::WeakDh) => {
                &["-cipher", "DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0"]
            }
            TlsProfile::Weak(Weakness::SmallCurve) => &[
                "-tls1_2",
                "-groups",
                "secp224r1",
                "-cipher",
                "DEFAULT:@SECLEVEL=0",
            ],
            TlsProfile::Weak(Weakness::CbcSha) => &["-cipher", "ECDHE-RSA-AES128-SHA:@SECLEVEL=0"],
            _ => &[],
        };
        let mut args: Vec<String> = vec![
            "s_client".into(),
            "-starttls".into(),
            "smtp".into(),
            "-connect".into(),
            format!("127.0.0.1:{port}"),
            "-CAfile".into(),
            root.clone(),
            "-brief".into(),
        ];
        args.extend(lax.iter().map(|a| a.to_string()));
        let out = run("openssl", args, Some(Vec::new())).await.all();
        let expected = match profile {
            TlsProfile::Certificate(Flaw::Expired) => "certificate has expired",
            TlsProfile::Certificate(Flaw::NotYetValid) => "certificate is not yet valid",
            TlsProfile::Certificate(Flaw::Standard | Flaw::Commercial) => {
                "unable to get local issuer certificate"
            }
            TlsProfile::Certificate(Flaw::WrongHost) => "autre-operateur",
            TlsProfile::OffListSuite => "ECDHE-RSA-CHACHA20-POLY1305",
            TlsProfile::Tls12Only => "TLSv1.2",
            TlsProfile::Weak(Weakness::Tls10Only) => "Protocol version: TLSv1\n",
            TlsProfile::Weak(Weakness::Tls11Only) => "Protocol version: TLSv1.1",
            TlsProfile::Weak(Weakness::WeakDh) => "DH, 1024 bits",
            TlsProfile::Weak(Weakness::SmallCurve) => "secp224r1",
            TlsProfile::Weak(Weakness::CbcSha) => "ECDHE-RSA-AES128-SHA",
            _ => "CONNECTION ESTABLISHED",
        };
        assert!(
            out.contains("CONNECTION ESTABLISHED"),
            "{}: {out}",
            profile.name()
        );
        assert!(out.contains(expected), "{}: {out}", profile.name());
        f.op.journal()
            .wait_for(mark, Duration::from_secs(5), |e| {
                matches!(e.kind, EventKind::TlsEstablished { .. })
            })
            .await
            .unwrap_or_else(|_| panic!("{}: handshake journaled", profile.name()));
    }
}

/// Without STARTTLS, s_client cannot even start TLS, and the EHLO reply says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_starttls_profile_advertises_nothing() {
    if !have("openssl") {
        return;
    }
    let f = start().await;
    f.op.set_tls_profile(operator::TlsProfile::NoStartTls);
    let port = f.op.addresses().psc_smtp.port();
    let out = s_client(port, "smtp", &s(&f.root()), &[]).await.all();
    assert!(
        out.to_ascii_lowercase().contains("didn't find starttls"),
        "{out}"
    );
    assert!(
        !f.op
            .journal()
            .snapshot()
            .iter()
            .any(|e| matches!(e.kind, EventKind::TlsClientHello(_)))
    );
}

/// On a weak profile (served by OpenSSL) the application entry point still judges the client
/// certificate the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_are_judged_on_openssl_profiles_too() {
    if !have("openssl") {
        return;
    }
    let f = start().await;
    f.op.set_tls_profile(operator::TlsProfile::Weak(
        operator::tls::weak::Weakness::CbcSha,
    ));
    let (chain, key) = f.client_files(APP_STRUCTURE);
    let port = f.op.addresses().app_smtp.port();
    let extra = [
        "-cert",
        &s(&chain),
        "-key",
        &s(&key),
        "-cipher",
        "ECDHE-RSA-AES128-SHA:@SECLEVEL=0",
    ]
    .map(str::to_owned);
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let out = s_client(port, "smtp", &s(&f.root()), &extra).await.all();
    assert!(out.contains("ECDHE-RSA-AES128-SHA"), "{out}");
    let event =
        f.op.journal()
            .wait_for(0, Duration::from_secs(5), |e| {
                matches!(e.kind, EventKind::TlsEstablished { .. })
            })
            .await
            .expect("handshake journaled");
    let EventKind::TlsEstablished {
        client_certificate: Some(cert),
        cipher_suite,
        ..
    } = &event.kind
    else {
        panic!("{event:?}");
    };
    assert_eq!(cipher_suite.code, 0xC013);
    assert_eq!(cert.rejected, None);
    assert_eq!(cert.summary.subject_ou, vec![APP_STRUCTURE.to_owned()]);
}
