//! `mss-operator`: runs the mock MSSanté operator until interrupted.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use operator::{Directory, Listen, Operator, OperatorConfig};

/// The mock MSSanté operator (API LPS: SMTP 587 and IMAP 143 with STARTTLS).
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Directory of BALs, professionals and structures.
    #[arg(long, default_value = "scenarios/directory.yaml")]
    directory: PathBuf,
    /// Folder of the fake IGC Santé (generated when missing).
    #[arg(long, default_value = "certs")]
    certs: PathBuf,
    /// Where mailboxes are stored.
    #[arg(long, default_value = "target/mss-operator-data")]
    data: PathBuf,
    /// Address of the Pro Santé Connect entry point.
    #[arg(long, default_value = "127.0.0.1")]
    psc_ip: IpAddr,
    /// Address of the application (certificate) entry point.
    #[arg(long, default_value = "127.0.0.2")]
    app_ip: IpAddr,
    /// SMTP port of both entry points.
    #[arg(long, default_value_t = 587)]
    smtp_port: u16,
    /// IMAP port of both entry points.
    #[arg(long, default_value_t = 143)]
    imap_port: u16,
    /// HTTP port (CRL distribution points, control API), on the PSC address.
    #[arg(long, default_value_t = 80)]
    http_port: u16,
    /// HTTPS port (autoconfiguration), on the PSC address.
    #[arg(long, default_value_t = 443)]
    https_port: u16,
    /// UDP port of the DNS responder for the operator's names, on the PSC address (0: any
    /// free port; `--no-dns`: none).
    #[arg(long, default_value_t = 53)]
    dns_port: u16,
    /// Do not run the DNS responder.
    #[arg(long)]
    no_dns: bool,
    /// Also write the journal as JSON lines to this file (an existing one is rotated).
    #[arg(long)]
    journal: Option<PathBuf>,
    /// Most simultaneous connections per SMTP/IMAP listener.
    #[arg(long, default_value_t = 256)]
    max_connections: usize,
    /// Most simultaneous connections per listener from one client address.
    #[arg(long, default_value_t = 64)]
    max_connections_per_address: usize,
    /// Seconds of silence before an SMTP client or an unauthenticated IMAP client is cut.
    #[arg(long, default_value_t = 300)]
    idle_timeout: u64,
    /// Seconds of silence before an authenticated IMAP client (IDLE included) is cut; RFC
    /// 3501 asks for at least 1800.
    #[arg(long, default_value_t = 1860)]
    imap_idle_timeout: u64,
    /// Seconds a command may take to arrive once its first byte did.
    #[arg(long, default_value_t = 60)]
    command_timeout: u64,
    /// Journal events held in memory (all of them go to the --journal file).
    #[arg(long, default_value_t = 100_000)]
    journal_events: usize,
    /// Accept a message whose `From:` names another mailbox than the authenticated one
    /// (refused with 550 5.7.1 by default, as real operators do; journaled either way).
    #[arg(long)]
    no_from_check: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut text = e.to_string();
            let mut source = e.source();
            while let Some(s) = source {
                text.push_str(&format!(": {s}"));
                source = s.source();
            }
            eprintln!("mss-operator: {text}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let directory = Directory::load(&args.directory)?;
    // The certificates' CRL and OCSP URLs name the HTTP port actually used.
    let (pki, outcome) = pki::ensure(&args.certs, &directory.pki_profile_at(args.http_port))?;
    for item in outcome.generated {
        eprintln!("généré : {item}");
    }
    let mut listen = Listen::standard(args.psc_ip, args.app_ip);
    listen.psc_smtp.set_port(args.smtp_port);
    listen.app_smtp.set_port(args.smtp_port);
    listen.psc_imap.set_port(args.imap_port);
    listen.app_imap.set_port(args.imap_port);
    listen.http.set_port(args.http_port);
    listen.https.set_port(args.https_port);
    listen.dns = (!args.no_dns).then(|| std::net::SocketAddr::new(args.psc_ip, args.dns_port));
    let mut config = OperatorConfig::new(directory, Arc::new(pki), args.data);
    config.listen = listen;
    config.journal_file = args.journal;
    config.limits.max_connections = args.max_connections.max(1);
    config.limits.max_connections_per_address = args.max_connections_per_address.max(1);
    config.limits.idle_timeout = std::time::Duration::from_secs(args.idle_timeout.max(1));
    config.limits.imap_idle_timeout = std::time::Duration::from_secs(args.imap_idle_timeout.max(1));
    config.limits.command_timeout = std::time::Duration::from_secs(args.command_timeout.max(1));
    config.limits.journal_events = args.journal_events;
    config.policy.from_must_be_authenticated_bal = !args.no_from_check;
    let handle = Operator::start(config).await?;
    let a = handle.addresses();
    eprintln!(
        "prêt : PSC smtp {} imap {} ; applicatif smtp {} imap {} ; http {} https {} ; dns {}",
        a.psc_smtp,
        a.psc_imap,
        a.app_smtp,
        a.app_imap,
        a.http,
        a.https,
        a.dns.map_or_else(|| "aucun".to_owned(), |d| d.to_string())
    );
    tokio::signal::ctrl_c().await?;
    handle.shutdown().await;
    Ok(())
}
