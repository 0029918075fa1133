//! The fake Pro Santé Connect's OIDC endpoints, driven by curl against the host name written in
//! the certificate: discovery, JWKS, the authorisation-code flow without a browser, refresh with
//! rotation, CIBA, introspection, userinfo, and session revocation — whose effect the operator
//! enforces on XOAUTH2.

mod support;

use operator::journal::{AuthVerdict, EventKind};
use support::*;

struct Psc<'a> {
    f: &'a Fixture,
    base: String,
    resolve: String,
}

impl<'a> Psc<'a> {
    fn new(f: &'a Fixture) -> Self {
        let port = f.op.addresses().https.port();
        Psc {
            f,
            base: format!(
                "https://psc.operateur-fictif.mssante.fr:{port}/auth/realms/esante-wallet"
            ),
            resolve: format!("psc.operateur-fictif.mssante.fr:{port}:127.0.0.1"),
        }
    }

    async fn curl(&self, extra: &[&str]) -> Output {
        let mut args = vec![
            "-sS".to_owned(),
            "--resolve".to_owned(),
            self.resolve.clone(),
            "--cacert".to_owned(),
            s(&self.f.root()),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        run("curl", args, None).await
    }

    async fn json(&self, extra: &[&str]) -> serde_json::Value {
        let out = self.curl(extra).await;
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.all()))
    }

    async fn token(&self, form: &[(&str, &str)]) -> serde_json::Value {
        let mut args = vec![];
        let pairs: Vec<String> = form.iter().map(|(k, v)| format!("{k}={v}")).collect();
        for p in &pairs {
            args.push("--data-urlencode");
            args.push(p.as_str());
        }
        let url = format!("{}/protocol/openid-connect/token", self.base);
        args.push(&url);
        self.json(&args).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_psc_flow_and_its_revocation() {
    if !have("curl") || !have("openssl") {
        return;
    }
    let f = start().await;
    let psc = Psc::new(&f);

    let discovery = psc
        .json(&[&format!("{}/.well-known/openid-configuration", psc.base)])
        .await;
    // The discovery document names the operator as it is bound (here an ephemeral port), so
    // a real client can follow it.
    assert_eq!(discovery["issuer"], psc.base.as_str());
    assert_eq!(
        discovery["token_endpoint"],
        format!("{}/protocol/openid-connect/token", psc.base).as_str()
    );
    assert!(
        discovery["grant_types_supported"]
            .as_array()
            .is_some_and(|g| g.iter().any(|g| g == "urn:openid:params:grant-type:ciba"))
    );

    // JWKS: the modulus is the PSC key's, as openssl reads it.
    let jwks = psc
        .json(&[&format!("{}/protocol/openid-connect/certs", psc.base)])
        .await;
    let n = jwks["keys"][0]["n"].as_str().expect("n");
    use base64::Engine;
    let modulus = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(n)
        .expect("base64url");
    let key = f.data.path().join("psc.pub.pem");
    std::fs::write(&key, &f.pki.psc_verifying_key).expect("write");
    let out = run(
        "openssl",
        ["rsa", "-pubin", "-in", &s(&key), "-noout", "-modulus"]
            .map(str::to_owned)
            .to_vec(),
        None,
    )
    .await;
    let hex: String = modulus.iter().map(|b| format!("{b:02X}")).collect();
    assert_eq!(out.stdout.trim(), format!("Modulus={hex}"));

    // Authorisation code without a browser: 302 to the redirect URI with the code and state.
    let out = psc
        .curl(&[
            "-o",
            "/dev/null",
            "-w",
            "%{redirect_url}",
            &format!(
                "{}/protocol/openid-connect/auth?response_type=code&client_id=lps-test&redirect_uri=https://lps.example/cb&state=xyz&nonce=n1&login_hint={PS_MARIE}",
                psc.base
            ),
        ])
        .await;
    let location = out.stdout;
    assert!(
        location.starts_with("https://lps.example/cb?code="),
        "{location}"
    );
    assert!(location.ends_with("&state=xyz"), "{location}");
    let code = location
        .split("code=")
        .nth(1)
        .and_then(|r| r.split('&').next())
        .expect("code");

    let tokens = psc
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", "https://lps.example/cb"),
            ("client_id", "lps-test"),
        ])
        .await;
    let access = tokens["access_token"].as_str().expect("access").to_owned();
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    assert!(tokens["id_token"].is_string());
    let claims = f.op.psc().validate(&access).expect("a valid PSC token");
    assert_eq!(claims.preferred_username, PS_MARIE);
    assert_eq!(claims.azp, "lps-test");
    assert_eq!(claims.acr, "eidas1");
    // A code works once.
    let again = psc
        .token(&[("grant_type", "authorization_code"), ("code", code)])
        .await;
    assert_eq!(again["error"], "invalid_grant");

    // userinfo and introspection.
    let info = psc
        .json(&[
            "-H",
            &format!("Authorization: Bearer {access}"),
            &format!("{}/protocol/openid-connect/userinfo", psc.base),
        ])
        .await;
    assert_eq!(info["preferred_username"], PS_MARIE);
    let introspected = psc
        .json(&[
            "--data-urlencode",
            &format!("token={access}"),
            &format!("{}/protocol/openid-connect/token/introspect", psc.base),
        ])
        .await;
    assert_eq!(introspected["active"], true);

    // Refresh rotates the refresh token; the old one is dead.
    let refreshed = psc
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    let refresh2 = refreshed["refresh_token"]
        .as_str()
        .expect("rotated")
        .to_owned();
    assert_ne!(refresh2, refresh);
    let replay = psc
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    assert_eq!(replay["error"], "invalid_grant");

    // The access token opens Marie's BAL over SMTP.
    let smtp = format!("smtp://127.0.0.1:{}", f.op.addresses().psc_smtp.port());
    let send = |token: String| {
        let smtp = smtp.clone();
        let root = s(&f.root());
        async move {
            run(
                "curl",
                [
                    "-sS",
                    "--url",
                    &smtp,
                    "--ssl-reqd",
                    "--cacert",
                    &root,
                    "--mail-from",
                    BAL_MARIE,
                    "--mail-rcpt",
                    BAL_PAUL,
                    "--upload-file",
                    "-",
                    "--user",
                    &format!("{BAL_MARIE}:"),
                    "--oauth2-bearer",
                    &token,
                    "--sasl-ir",
                ]
                .map(str::to_owned)
                .to_vec(),
                Some(b"Subject: psc\r\n\r\nx\r\n".to_vec()),
            )
            .await
        }
    };
    let access2 = refreshed["access_token"]
        .as_str()
        .expect("access")
        .to_owned();
    assert!(send(access2.clone()).await.ok);

    // The harness ends Marie's PSC sessions: refresh fails, introspection says inactive, and
    // the operator refuses the still-unexpired access token.
    let out = run(
        "curl",
        [
            "-sS",
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "-d",
            &format!(r#"{{"professional":"{PS_MARIE}"}}"#),
            &format!(
                "http://127.0.0.1:{}/api/psc/revoke",
                f.op.addresses().http.port()
            ),
        ]
        .map(str::to_owned)
        .to_vec(),
        None,
    )
    .await;
    assert!(out.stdout.contains("\"sessions_ended\":1"), "{}", out.all());
    let dead = psc
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh2),
        ])
        .await;
    assert_eq!(dead["error"], "invalid_grant");
    let inactive = psc
        .json(&[
            "--data-urlencode",
            &format!("token={access2}"),
            &format!("{}/protocol/openid-connect/token/introspect", psc.base),
        ])
        .await;
    assert_eq!(inactive["active"], false);
    assert!(!send(access2).await.ok);
    assert!(f.op.journal().snapshot().iter().any(|e| matches!(
        &e.kind,
        EventKind::Auth { verdict: AuthVerdict::Refused, reason: Some(r), .. } if r.contains("session Pro Santé Connect")
    )));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ciba_and_logout() {
    if !have("curl") {
        return;
    }
    let f = start().await;
    let psc = Psc::new(&f);
    let request = psc
        .json(&[
            "--data-urlencode",
            &format!("login_hint={PS_PAUL}"),
            "--data-urlencode",
            "client_id=lps-ciba",
            &format!("{}/protocol/openid-connect/ext/ciba/auth", psc.base),
        ])
        .await;
    let id = request["auth_req_id"].as_str().expect("auth_req_id");
    let tokens = psc
        .token(&[
            ("grant_type", "urn:openid:params:grant-type:ciba"),
            ("auth_req_id", id),
        ])
        .await;
    let access = tokens["access_token"].as_str().expect("access");
    assert_eq!(
        f.op.psc()
            .validate(access)
            .expect("valid")
            .preferred_username,
        PS_PAUL
    );
    let refresh = tokens["refresh_token"].as_str().expect("refresh");
    let out = psc
        .curl(&[
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--data-urlencode",
            &format!("refresh_token={refresh}"),
            &format!("{}/protocol/openid-connect/logout", psc.base),
        ])
        .await;
    assert_eq!(out.stdout, "204");
    let dead = psc
        .token(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])
        .await;
    assert_eq!(dead["error"], "invalid_grant");
    let grants: Vec<(String, bool)> =
        f.op.journal()
            .snapshot()
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::PscGrant {
                    grant_type, error, ..
                } => Some((grant_type.clone(), error.is_none())),
                _ => None,
            })
            .collect();
    assert_eq!(
        grants,
        vec![
            ("urn:openid:params:grant-type:ciba".to_owned(), true),
            ("refresh_token".to_owned(), false)
        ]
    );
    let unknown = psc
        .json(&[
            "--data-urlencode",
            "login_hint=899999999999",
            &format!("{}/protocol/openid-connect/ext/ciba/auth", psc.base),
        ])
        .await;
    assert_eq!(unknown["error"], "unknown_user_id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_from_a_refresh_can_be_refused_on_request() {
    if !have("curl") {
        return;
    }
    let f = start().await;
    let psc = Psc::new(&f);
    let code = psc
        .json(&[&format!(
            "{}/protocol/openid-connect/auth?client_id=lps&login_hint={PS_MARIE}",
            psc.base
        )])
        .await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let first = psc
        .token(&[("grant_type", "authorization_code"), ("code", &code)])
        .await;
    let refreshed = psc
        .token(&[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                first["refresh_token"].as_str().expect("refresh"),
            ),
        ])
        .await;
    f.op.set_faults(operator::Faults {
        refuse_refreshed_tokens: true,
        ..operator::Faults::default()
    });
    let smtp = format!("smtp://127.0.0.1:{}", f.op.addresses().psc_smtp.port());
    let try_token = |token: String| {
        let (smtp, root) = (smtp.clone(), s(&f.root()));
        async move {
            run(
                "curl",
                [
                    "-sS",
                    "--url",
                    &smtp,
                    "--ssl-reqd",
                    "--cacert",
                    &root,
                    "--mail-from",
                    BAL_MARIE,
                    "--mail-rcpt",
                    BAL_PAUL,
                    "--upload-file",
                    "-",
                    "--user",
                    &format!("{BAL_MARIE}:"),
                    "--oauth2-bearer",
                    &token,
                    "--sasl-ir",
                ]
                .map(str::to_owned)
                .to_vec(),
                Some(b"Subject: x\r\n\r\ny\r\n".to_vec()),
            )
            .await
            .ok
        }
    };
    assert!(try_token(first["access_token"].as_str().expect("a").to_owned()).await);
    assert!(!try_token(refreshed["access_token"].as_str().expect("a").to_owned()).await);
    assert!(f.op.journal().snapshot().iter().any(|e| matches!(
        &e.kind,
        EventKind::Auth { reason: Some(r), .. } if r.contains("rafraîchissement")
    )));
}

#[tokio::test]
async fn tokens_the_harness_hands_out_die_with_the_professionals_sessions() {
    let f = start().await;
    let token = f.token(PS_MARIE);
    assert!(f.op.psc().validate(&token).is_ok());
    let claims = f.op.psc().validate(&token).expect("valid");
    assert!(claims.sid.is_some(), "issued inside a session");
    // What POST /api/psc/revoke does.
    assert!(f.op.end_psc_sessions(PS_MARIE) >= 1);
    // The operator refuses it now: XOAUTH2 checks the same session.
    assert!(
        f.op.psc_session_ended(&token),
        "the token's session has ended"
    );
}

#[test]
fn tokens_issued_in_the_future_are_refused() {
    let directory = operator::Directory::embedded();
    let (pki, _) = pki::ensure(&certs_dir(), &directory.pki_profile()).expect("pki");
    let psc = operator::psc::Psc::new("https://psc.example/realm".into(), &pki).expect("psc");
    let marie = directory.professional(PS_MARIE).expect("ps");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut claims = psc.claims_for(marie, "lps", now, now + 600);
    assert!(psc.validate(&psc.sign(&claims).expect("sign")).is_ok());
    // A client clock a little ahead is tolerated…
    claims.iat = now + 30;
    assert!(psc.validate(&psc.sign(&claims).expect("sign")).is_ok());
    // …a token from the future is not.
    claims.iat = now + 3600;
    assert_eq!(
        psc.validate(&psc.sign(&claims).expect("sign")),
        Err(operator::psc::TokenError::NotYetValid)
    );
    claims.iat = now;
    claims.nbf = Some(now + 3600);
    assert_eq!(
        psc.validate(&psc.sign(&claims).expect("sign")),
        Err(operator::psc::TokenError::NotYetValid)
    );
}
