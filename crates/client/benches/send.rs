//! End-to-end figures of the reference client against the mock operator on loopback:
//! composing and sending a message carrying five health documents (three N3, two N1: the
//! IHE_XDM.ZIP, five PDF/A-1, subject and X-MSS headers computed from the CDAs), and sending a
//! 20 MB message (a 15 MB attachment, base64) with the process's peak memory (VmHWM).
//!
//! `cargo bench -p client --bench send` (release), or `--profile dev` for the debug build an
//! editor's CI runs. `MSS_BENCH_ROUNDS` sets the rounds of the five-document send (default 20).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use client::spec::{AddressSpec, AddressType, AttachmentSpec};
use client::{Account, Client, Credentials, Endpoint, MessageSpec, Secret, Trust};
use documents::{build, fixtures};
use operator::{Directory, EntryPoint, Operator, OperatorConfig, Service};

const MARIE: &str = "marie.martin@operateur-fictif.mssante.fr";
const PAUL: &str = "paul.durand@operateur-fictif.mssante.fr";

/// Peak resident memory of this process (Linux), in MB.
fn peak_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn attachment(name: &str, content_type: &str, bytes: &[u8]) -> AttachmentSpec {
    AttachmentSpec {
        content_type: content_type.into(),
        file: base64::engine::general_purpose::STANDARD.encode(bytes),
        file_name: name.into(),
    }
}

fn spec(attachments: Vec<AttachmentSpec>) -> MessageSpec {
    MessageSpec {
        attachments,
        addresses: vec![AddressSpec {
            email: PAUL.into(),
            name: None,
            kind: AddressType::To,
        }],
        subject: "Documents".into(),
        body: "Bonjour,\nci-joint les documents.\nBien cordialement.".into(),
        ..MessageSpec::default()
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rounds: usize = std::env::var("MSS_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let directory = Directory::embedded();
    let certs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../certs");
    let (pki, _) = pki::ensure(&certs, &directory.pki_profile()).expect("pki");
    let pki = Arc::new(pki);
    let data = tempfile::tempdir().expect("tempdir");
    let op = Operator::start(OperatorConfig::new(
        directory,
        pki.clone(),
        data.path().into(),
    ))
    .await
    .expect("operator");
    let dir = op.directory();
    let token = op
        .issue_access_token("810000000001", "lps-de-test", Duration::from_secs(600))
        .expect("token");
    let a = op.addresses();
    let host = dir.operator.psc_host.clone();
    let account = Account {
        address: MARIE.into(),
        display_name: "Dr Marie MARTIN".into(),
        reply_to: None,
        nil: "BENCH/1".into(),
        smtp: Endpoint {
            host: host.clone(),
            addr: a.of(Service::Smtp, EntryPoint::Psc),
        },
        imap: Endpoint {
            host,
            addr: a.of(Service::Imap, EntryPoint::Psc),
        },
        credentials: Credentials::Xoauth2 {
            token: Secret(token),
        },
        trust: Trust {
            root_pem: pki.root.cert.pem.clone(),
            organisations_pem: pki.organisations.cert.pem.clone(),
        },
        connect_to: vec![
            client::ConnectTo {
                host: format!("crl.{}", dir.operator.domain),
                port: None,
                address: a.http.ip(),
                to_port: Some(a.http.port()),
            },
            client::ConnectTo {
                host: format!("ocsp.{}", dir.operator.domain),
                port: None,
                address: a.http.ip(),
                to_port: Some(a.http.port()),
            },
        ],
    };
    let state = tempfile::tempdir().expect("tempdir");
    let client = Client::new(account).with_data_dir(state.path());

    // Five documents of one patient, as a user attaches them.
    let patient = fixtures::patient();
    let mut docs = Vec::new();
    for i in 0..5 {
        let mut d = if i % 2 == 0 {
            fixtures::biology_n3()
        } else {
            fixtures::letter_n1()
        };
        d.id = format!("{}-{i}", d.id);
        docs.push(d);
    }
    let five: Vec<AttachmentSpec> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            attachment(
                &format!("CDA-{i}.xml"),
                "text/xml",
                &build::cda(d, &patient),
            )
        })
        .collect();
    let five = spec(five);
    // The first send also fetches the CRL (kept afterwards): time it apart.
    let started = Instant::now();
    let first = client.send(&five).await.expect("send");
    let first_ms = started.elapsed().as_secs_f64() * 1e3;
    let mut times = Vec::new();
    for _ in 0..rounds {
        let started = Instant::now();
        client.send(&five).await.expect("send");
        times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    let compose_started = Instant::now();
    for _ in 0..rounds {
        client::compose::compose(client.account(), &five, &client::Defects::new())
            .expect("compose");
    }
    let compose_ms = compose_started.elapsed().as_secs_f64() * 1e3 / rounds as f64;
    println!(
        "5-document XDM message ({} kB): compose {compose_ms:.1} ms; compose + send median {:.1} ms, max {:.1} ms over {rounds} ({first_ms:.0} ms for the first, CRL fetch included)",
        first.bytes.len() / 1024,
        times[times.len() / 2],
        times[times.len() - 1]
    );

    // A 20 MB message: a 15 MB attachment of incompressible bytes, base64 on the wire.
    let before = peak_mb();
    let mut big = vec![0u8; 15_000_000];
    let mut x: u32 = 0x9e37_79b9;
    for b in &mut big {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    let big = spec(vec![attachment(
        "scanner.bin",
        "application/octet-stream",
        &big,
    )]);
    let after_input = peak_mb();
    let started = Instant::now();
    let sent = client.send(&big).await.expect("send 20 MB");
    println!(
        "20 MB message ({:.1} MB on the wire): sent in {:.2} s; peak memory {:.0} MB before, {:.0} MB with the input built, {:.0} MB after the send",
        sent.bytes.len() as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        before.unwrap_or_default(),
        after_input.unwrap_or_default(),
        peak_mb().unwrap_or_default()
    );
}
