//! The DNS responder, asked by dig: the operator's names resolve to its entry points, other
//! names of its domain do not exist, the rest of the world is refused.

mod support;

use std::time::Duration;

use operator::journal::EventKind;
use support::*;

async fn dig(port: u16, name: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "@127.0.0.1".to_owned(),
        "-p".to_owned(),
        port.to_string(),
        name.to_owned(),
        "+time=2".to_owned(),
        "+tries=1".to_owned(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    run("dig", args, None).await.stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dig_resolves_the_operator_names_and_nothing_else() {
    if !have("dig") {
        return;
    }
    let f = start().await;
    let port = f.op.addresses().dns.expect("dns responder").port();
    for name in [
        "autoconfig.operateur-fictif.mssante.fr",
        "mail-psc.operateur-fictif.mssante.fr",
        "mail-authcli.operateur-fictif.mssante.fr",
        "psc.operateur-fictif.mssante.fr",
        "crl.operateur-fictif.mssante.fr",
        "ocsp.operateur-fictif.mssante.fr",
    ] {
        let out = dig(port, name, &["A", "+short"]).await;
        assert_eq!(
            out.lines().next().map(str::trim),
            Some("127.0.0.1"),
            "{name}: {out}"
        );
    }
    let out = dig(port, "inconnu.operateur-fictif.mssante.fr", &["A"]).await;
    assert!(out.contains("status: NXDOMAIN"), "{out}");
    let out = dig(port, "www.example.com", &["A"]).await;
    assert!(out.contains("status: REFUSED"), "{out}");
    f.op.journal()
        .wait_for(0, Duration::from_secs(5), |e| {
            matches!(&e.kind, EventKind::DnsQuery { name, answer: Some(_), .. } if name == "autoconfig.operateur-fictif.mssante.fr")
        })
        .await
        .expect("query journaled");
}
