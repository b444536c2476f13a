//! RFC 9470 step-up against dev/idp's real tokens: `/api/sensitive` asks a password sign-in for a
//! second factor; native-oidc's `Auth::send` reports the challenge, and the sign-in its `StepUp`
//! describes (through dev/idp's one-time code page) satisfies the API, for the same user only.

use demo_api::{Api, Verifier, STEP_UP_ACR, STEP_UP_MAX_AGE};
use native_oidc::{
    Auth, Config, Error, OidcClient, PendingAuthorizations, SessionStore, SignInOptions, StepUp,
};
use testkit::{Browser, Idp, LoginAction, CLIENT_ID};

use crate::serve;

fn auth(idp: &Idp) -> Auth {
    let config = Config::new(idp.issuer(), CLIENT_ID, "com.okta.example:/callback").unwrap();
    Auth::new(OidcClient::new(config).unwrap(), SessionStore::memory())
}

async fn sign_in(
    auth: &Auth,
    options: SignInOptions,
    action: &LoginAction,
) -> native_oidc::Result<()> {
    let request = auth.begin_sign_in(options).await?;
    let mut pending = PendingAuthorizations::new();
    pending.insert(request.pending);
    let callback = Browser::new()
        .open(request.url.as_str(), action)
        .await
        .app_redirect();
    auth.complete_sign_in(callback.as_str(), &mut pending)
        .await
        .map(|_| ())
}

async fn sensitive(idp: &Idp) -> url::Url {
    let issuer = idp.issuer().to_string();
    let address =
        serve(move |_| Api::new(Verifier::new(&issuer, "api://default", [CLIENT_ID]))).await;
    format!("http://{address}/api/sensitive").parse().unwrap()
}

#[tokio::test]
async fn a_password_sign_in_is_asked_to_step_up_and_a_second_factor_then_passes() {
    let idp = Idp::start();
    let url = sensitive(&idp).await;
    let auth = auth(&idp);
    sign_in(&auth, SignInOptions::default(), &LoginAction::demo())
        .await
        .unwrap();

    let request = auth.request(reqwest::Method::GET, url.clone()).unwrap();
    let error = auth.send(request).await.unwrap_err();
    let Error::StepUpRequired(step_up) = error else {
        panic!("not a step-up: {error}");
    };
    assert_eq!(
        step_up,
        StepUp {
            acr_values: vec![STEP_UP_ACR.into()],
            max_age: Some(STEP_UP_MAX_AGE as u64),
        }
    );
    // Not a token failure: no refresh, the session as it was.
    assert_eq!(idp.grants("refresh_token").await, 0);
    let before = auth.session().await.expect("still signed in");

    let options = step_up.sign_in_options(&before);
    assert_eq!(options.login_hint.as_deref(), Some("demo@example.com"));
    sign_in(&auth, options, &LoginAction::demo()).await.unwrap();
    let after = auth.session().await.unwrap();
    assert_eq!(after.subject, before.subject);
    assert_eq!(after.claims["acr"], STEP_UP_ACR);

    let request = auth.request(reqwest::Method::GET, url).unwrap();
    let response = auth.send(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["acr"], STEP_UP_ACR);
    assert_eq!(body["sub"], before.subject);
}

#[tokio::test]
async fn a_step_up_that_comes_back_as_another_user_is_refused_and_the_session_kept() {
    let idp = Idp::start();
    let auth = auth(&idp);
    sign_in(&auth, SignInOptions::default(), &LoginAction::demo())
        .await
        .unwrap();
    let before = auth.session().await.unwrap();
    let step_up = StepUp {
        acr_values: vec![STEP_UP_ACR.into()],
        max_age: Some(300),
    };
    let alice = LoginAction::SignIn {
        username: "alice".into(),
        password: "alice".into(),
    };
    let error = sign_in(&auth, step_up.sign_in_options(&before), &alice)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::DifferentUser), "{error}");
    let kept = auth.session().await.expect("the session stays");
    assert_eq!(kept.subject, before.subject);
    assert_eq!(kept.claims["acr"], before.claims["acr"]);
    assert!(idp.revocations().await >= 1, "alice's tokens are revoked");
}
