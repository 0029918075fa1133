//! The client's Pro Santé Connect flows against the operator's fake provider: authorisation
//! code and CIBA, refresh with rotation, introspection, and the end of the session seen both
//! ways (inactive token, refused refresh).

mod common;

use std::time::Duration;

use client::psc::{Flow, PscClient, PscError, PscSettings};
use client::{ConnectTo, Credentials, Defects, Secret, Trust};
use operator::{Directory, Operator, OperatorConfig};

#[tokio::test]
async fn code_and_ciba_flows_refresh_and_the_end_of_the_session() {
    let directory = Directory::embedded();
    let pki = common::pki();
    let data = tempfile::tempdir().expect("tempdir");
    let op = Operator::start(OperatorConfig::new(
        directory.clone(),
        pki.clone(),
        data.path().into(),
    ))
    .await
    .expect("operator");
    let trust = Trust {
        root_pem: pki.root.cert.pem.clone(),
        organisations_pem: pki.organisations.cert.pem.clone(),
    };
    let tls = client::tls::client_config(
        &trust,
        &Credentials::Xoauth2 {
            token: Secret(String::new()),
        },
        false,
        &Defects::new(),
    )
    .expect("tls");
    let https = op.addresses().https;
    let psc = |flow| {
        PscClient::new(
            PscSettings {
                issuer: op.psc_issuer(),
                client_id: "lps-de-test".into(),
                professional: "810000000001".into(),
                flow,
            },
            tls.clone(),
            vec![ConnectTo {
                host: format!("psc.{}", directory.operator.domain),
                port: None,
                address: https.ip(),
                to_port: Some(https.port()),
            }],
            Duration::from_secs(5),
        )
    };
    let code = psc(Flow::Code);
    let tokens = code.login().await.expect("code flow");
    assert!(!op.psc_session_ended(&tokens.access.0));
    let ciba = psc(Flow::Ciba).login().await.expect("CIBA flow");
    assert_ne!(ciba.access.0, tokens.access.0);
    let refreshed = code.refresh(&tokens).await.expect("refresh");
    assert!(code.active(&refreshed).await.expect("introspection"));
    // The old refresh token was rotated away.
    assert!(matches!(
        code.refresh(&tokens).await,
        Err(PscError::SessionEnded(_))
    ));
    op.end_psc_sessions("810000000001");
    assert!(!code.active(&refreshed).await.expect("introspection"));
    assert!(matches!(
        code.refresh(&refreshed).await,
        Err(PscError::SessionEnded(_))
    ));
}
