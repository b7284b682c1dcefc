//! Authentication use cases: what a project, its users' browsers and a provider see.

use std::collections::BTreeMap;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::json;
use toolrouter_app::auth::accounts::{AccountChoice, LinkRequest, Resolved};
use toolrouter_app::auth::configs::{AuthConfigKind, NewAuthConfig};
use toolrouter_app::auth::connect::{
    CallbackQuery, ConnectFinish, ConnectFinishOrRedirect, ConnectProblem, ConnectView,
};
use toolrouter_app::execute::ToolExecution;
use toolrouter_app::{App, AppConfig, Caller};
use toolrouter_core::{AccountStatus, AuthConfigOrigin, ErrorCode};

use crate::provider::{CLIENT_ID, Provider};
use crate::{CLIENT_SECRET, Db, app_on, caller, config};

async fn custom_oauth_config(app: &App, who: &Caller) -> String {
    let info = app
        .auth_config_create(
            who,
            NewAuthConfig {
                toolkit: "acme".into(),
                kind: AuthConfigKind::Custom,
                name: None,
                auth_scheme: Some("OAUTH2".into()),
                credentials: BTreeMap::from([
                    ("client_id".to_owned(), SecretString::from(CLIENT_ID)),
                    (
                        "client_secret".to_owned(),
                        SecretString::from(CLIENT_SECRET),
                    ),
                ]),
                scopes: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(info.credentials["client_secret"], "plan********", "masked");
    info.config.id.to_string()
}

fn link(config: &str, user: &str) -> LinkRequest {
    LinkRequest {
        auth_config_id: config.to_owned(),
        user_id: user.to_owned(),
        callback_url: Some("https://app.test/connected?from=test".to_owned()),
        alias: None,
        multi_account: None,
    }
}

fn token_of(redirect_url: &str) -> String {
    redirect_url
        .strip_prefix("http://toolrouter.test/link/")
        .expect("links are on the public URL")
        .to_owned()
}

/// The whole browser side: open the link, "log in" at the provider, come back.
async fn connect(app: &App, provider: &Provider, who: &Caller, config: &str, user: &str) -> String {
    let issued = app.account_link(who, link(config, user)).await.unwrap();
    assert_eq!(issued.account.status, AccountStatus::Initiated);
    let token = token_of(&issued.redirect_url);
    let ConnectView::Redirect(authorize) = app.connect_open(&token).await.unwrap() else {
        panic!("OAuth2 goes straight to the provider");
    };
    assert!(
        authorize.starts_with(&format!("{}/authorize?", provider.origin())),
        "{authorize}"
    );
    let (code, state) = provider.authorize(&authorize);
    let finish = app
        .connect_callback(CallbackQuery {
            state: Some(state),
            code: Some(code.into()),
            error: None,
        })
        .await
        .unwrap();
    let ConnectFinish::Redirect(back) = finish else {
        panic!("back to the app's callback URL: {finish:?}");
    };
    let id = issued.account.id.to_string();
    assert_eq!(
        back,
        format!("https://app.test/connected?from=test&status=success&connected_account_id={id}")
    );
    id
}

async fn whoami(app: &App, who: &Caller, user: &str) -> toolrouter_app::execute::ToolResult {
    app.tool_execute(
        who,
        "ACME_WHOAMI",
        ToolExecution {
            user_id: Some(user.to_owned()),
            arguments: json!({}),
            ..ToolExecution::default()
        },
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn oauth_flow_connects_an_account_and_its_token_reaches_the_api() {
    let db = Db::sqlite();
    let provider = Provider::start(CLIENT_SECRET).await;
    let app = app_on(&db, &provider, &config()).await;
    let who = caller(&app).await;
    let config_id = custom_oauth_config(&app, &who).await;
    let id = connect(&app, &provider, &who, &config_id, "alice").await;
    assert_eq!(provider.code_requests(), 1);

    let info = app.account_get(&who, &id).await.unwrap();
    assert_eq!(info.status, AccountStatus::Active);
    assert_eq!(info.values["token_type"], "Bearer");
    assert_eq!(
        info.values["access_token"], "prov********",
        "masked: {:?}",
        info.values
    );
    assert!(info.values["refresh_token"].ends_with("********"));
    let shown = format!("{:?} {:?}", info.values, info.account.params);
    for secret in provider.handed_out() {
        assert!(!shown.contains(&secret), "{secret} shown in {shown}");
    }

    let result = whoami(&app, &who, "alice").await;
    assert!(result.successful, "{result:?}");
    assert_eq!(result.data["login"], "octo");
    assert!(result.log_id.starts_with("log_"));

    // The link and the state are spent.
    let token = token_of(
        &app.account_link(&who, link(&config_id, "bob"))
            .await
            .unwrap()
            .redirect_url,
    );
    let ConnectView::Redirect(authorize) = app.connect_open(&token).await.unwrap() else {
        panic!()
    };
    let (code, state) = provider.authorize(&authorize);
    let q = |code: &str| CallbackQuery {
        state: Some(state.clone()),
        code: Some(code.to_owned().into()),
        error: None,
    };
    assert!(matches!(
        app.connect_callback(q(&code)).await,
        Ok(ConnectFinish::Redirect(_))
    ));
    let again = app.connect_callback(q(&code)).await.unwrap_err();
    assert_eq!(again.problem, ConnectProblem::AlreadyUsed);
    assert_eq!(
        app.connect_open(&token).await.unwrap_err().problem,
        ConnectProblem::AlreadyUsed
    );
    assert_eq!(
        provider.code_requests(),
        2,
        "a reused state never reaches the provider"
    );
}

#[tokio::test]
async fn tampered_unknown_and_missing_states_change_nothing() {
    let db = Db::sqlite();
    let provider = Provider::start(CLIENT_SECRET).await;
    let app = app_on(&db, &provider, &config()).await;
    let who = caller(&app).await;
    let config_id = custom_oauth_config(&app, &who).await;
    let issued = app
        .account_link(&who, link(&config_id, "alice"))
        .await
        .unwrap();
    let ConnectView::Redirect(authorize) = app
        .connect_open(&token_of(&issued.redirect_url))
        .await
        .unwrap()
    else {
        panic!()
    };
    let (code, state) = provider.authorize(&authorize);
    let mut tampered = state.clone().into_bytes();
    tampered[2] = if tampered[2] == b'A' { b'B' } else { b'A' };
    let cases = [
        (
            Some(String::from_utf8(tampered).unwrap()),
            ConnectProblem::Invalid,
        ),
        (Some("not-a-state".to_owned()), ConnectProblem::Invalid),
        (None, ConnectProblem::Invalid),
    ];
    for (state, problem) in cases {
        let err = app
            .connect_callback(CallbackQuery {
                state,
                code: Some(code.clone().into()),
                error: None,
            })
            .await
            .unwrap_err();
        assert_eq!(err.problem, problem, "{err:?}");
    }
    for bad in [
        "",
        "lk_short",
        "../../etc/passwd",
        &format!("lk_{}", "A".repeat(43)),
    ] {
        assert_eq!(
            app.connect_open(bad).await.unwrap_err().problem,
            ConnectProblem::Invalid
        );
    }
    let info = app
        .account_get(&who, issued.account.id.as_str())
        .await
        .unwrap();
    assert_eq!(info.status, AccountStatus::Initiated, "nothing changed");
    assert_eq!(provider.code_requests(), 0);
    // The genuine state still works afterwards.
    let ok = app
        .connect_callback(CallbackQuery {
            state: Some(state),
            code: Some(code.into()),
            error: None,
        })
        .await;
    assert!(matches!(ok, Ok(ConnectFinish::Redirect(_))), "{ok:?}");
}

#[tokio::test]
async fn provider_refusals_mark_the_account_failed_with_the_providers_code() {
    let db = Db::sqlite();
    let provider = Provider::start(CLIENT_SECRET).await;
    let app = app_on(&db, &provider, &config()).await;
    let who = caller(&app).await;
    let config_id = custom_oauth_config(&app, &who).await;
    for (code, error, expected) in [
        (
            Some("code_the_provider_never_issued"),
            None,
            "invalid_grant",
        ),
        (None, Some("access_denied"), "access_denied"),
        (None, Some("<script>alert(1)</script>"), "invalid_response"),
    ] {
        let issued = app
            .account_link(&who, link(&config_id, "carol"))
            .await
            .unwrap();
        let ConnectView::Redirect(authorize) = app
            .connect_open(&token_of(&issued.redirect_url))
            .await
            .unwrap()
        else {
            panic!()
        };
        let (_, state) = provider.authorize(&authorize);
        let finish = app
            .connect_callback(CallbackQuery {
                state: Some(state),
                code: code.map(|c| c.to_owned().into()),
                error: error.map(str::to_owned),
            })
            .await
            .unwrap();
        let ConnectFinish::Redirect(back) = finish else {
            panic!("{finish:?}")
        };
        assert!(back.contains("status=failed"), "{back}");
        assert!(back.contains(&format!("error={expected}")), "{back}");
        let info = app
            .account_get(&who, issued.account.id.as_str())
            .await
            .unwrap();
        assert_eq!(info.status, AccountStatus::Failed);
        assert_eq!(info.account.status_reason.as_deref(), Some(expected));
    }
}

#[tokio::test]
async fn expired_links_say_so_and_the_account_reads_expired() {
    let db = Db::sqlite();
    let provider = Provider::start(CLIENT_SECRET).await;
    let mut cfg = config();
    cfg.auth.link_ttl = Duration::ZERO;
    let app = app_on(&db, &provider, &cfg).await;
    let who = caller(&app).await;
    let config_id = custom_oauth_config(&app, &who).await;
    let issued = app
        .account_link(&who, link(&config_id, "dave"))
        .await
        .unwrap();
    let err = app
        .connect_open(&token_of(&issued.redirect_url))
        .await
        .unwrap_err();
    assert_eq!(err.problem, ConnectProblem::Expired);
    let info = app
        .account_get(&who, issued.account.id.as_str())
        .await
        .unwrap();
    assert_eq!(info.status, AccountStatus::Expired);
}

#[tokio::test]
async fn callback_urls_must_be_on_the_allowlist() {
    let db = Db::sqlite();
    let provider = Provider::start(CLIENT_SECRET).await;
    let app = app_on(&db, &provider, &config()).await;
    let who = caller(&app).await;
    let config_id = custom_oauth_config(&app, &who).await;
    let mut req = link(&config_id, "erin");
    req.callback_url = Some("https://evil.test/steal".into());
    let err = app.account_link(&who, req.clone()).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::CallbackUrlNotAllowed);
    assert!(
        err.message.contains("https://evil.test/steal"),
        "{}",
        err.message
    );
    // The project adds it; now it is allowed.
    app.callback_urls_set(&who, &["https://evil.test/".to_owned()])
        .await
        .unwrap();
    app.account_link(&who, req).await.unwrap();
    let err = app
        .callback_urls_set(&who, &["javascript:alert(1)".to_owned()])
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::ValidationFailed);
}

#[tokio::test]
async fn api_key_form_asks_for_the_schemes_fields_and_stores_them_sealed() {
    let db = Db::sqlite();
    let provider = Provider::start(CLIENT_SECRET).await;
    let app = app_on(&db, &provider, &config()).await;
    let who = caller(&app).await;
    let info = app
        .auth_config_create(
            &who,
            NewAuthConfig {
                toolkit: "keyco".into(),
                kind: AuthConfigKind::Managed,
                name: Some("KeyCo".into()),
                auth_scheme: None,
                credentials: BTreeMap::new(),
                scopes: None,
            },
        )
        .await
        .unwrap();
    assert!(
        info.config.managed,
        "an API-key toolkit needs no app: managed works"
    );
    let mut req = link(info.config.id.as_str(), "frank");
    req.callback_url = None;
    let issued = app.account_link(&who, req).await.unwrap();
    let token = token_of(&issued.redirect_url);
    let ConnectView::Form(form) = app.connect_open(&token).await.unwrap() else {
        panic!("an API key is typed in")
    };
    let fields: Vec<(&str, bool)> = form
        .fields
        .iter()
        .map(|f| (f.name.as_str(), f.secret))
        .collect();
    assert_eq!(fields, [("region", false), ("api_key", true)]);

    // Missing the key: refused, nothing stored, the link still works.
    let partial = BTreeMap::from([("region".to_owned(), SecretString::from("eu"))]);
    let err = app.connect_submit(&token, partial).await.unwrap_err();
    assert_eq!(err.problem, ConnectProblem::BadInput);
    assert!(
        err.message.contains("API key is required"),
        "{}",
        err.message
    );

    let planted = "keyco_planted_api_key_7d1e";
    let values = BTreeMap::from([
        ("region".to_owned(), SecretString::from("eu")),
        ("api_key".to_owned(), SecretString::from(planted)),
        ("unrelated".to_owned(), SecretString::from("ignored")),
    ]);
    let done = app.connect_submit(&token, values.clone()).await.unwrap();
    assert_eq!(
        done,
        ConnectFinishOrRedirect::Finish(ConnectFinish::Done {
            toolkit_name: "KeyCo".into(),
            connected: true,
            reason: None
        })
    );
    let acct = app
        .account_get(&who, issued.account.id.as_str())
        .await
        .unwrap();
    assert_eq!(acct.status, AccountStatus::Active);
    assert_eq!(acct.values["region"], "eu");
    assert_eq!(acct.values["api_key"], "keyc********");
    assert!(
        !acct.account.params.contains_key("api_key"),
        "secrets are sealed, not params"
    );
    assert!(!acct.account.params.contains_key("unrelated"));
    let sealed = acct.account.sealed.clone().unwrap();
    assert!(
        !sealed
            .windows(planted.len())
            .any(|w| w == planted.as_bytes())
    );
    assert_eq!(
        app.connect_submit(&token, values)
            .await
            .unwrap_err()
            .problem,
        ConnectProblem::AlreadyUsed
    );
    // The key reaches the API as the scheme's header says.
    provider.accept_token(planted);
    let result = app
        .tool_execute(
            &who,
            "KEYCO_WHOAMI",
            ToolExecution {
                user_id: Some("frank".into()),
                arguments: json!({}),
                ..ToolExecution::default()
            },
        )
        .await
        .unwrap();
    assert!(result.successful, "{result:?}");
}

#[tokio::test]
async fn a_401_refreshes_once_and_retries_once() {
    let db = Db::sqlite();
    let provider = Provider::start(CLIENT_SECRET).await;
    let app = app_on(&db, &provider, &config()).await;
    let who = caller(&app).await;
    let config_id = custom_oauth_config(&app, &who).await;
    connect(&app, &provider, &who, &config_id, "gina").await;
    provider.revoke_access_tokens();
    let before = provider.api_calls();
    let result = whoami(&app, &who, "gina").await;
    assert!(result.successful, "{result:?}");
    assert_eq!(provider.refresh_requests(), 1);
    assert_eq!(provider.api_calls() - before, 2, "the call, then one retry");
    assert_eq!(
        result.account.unwrap().version,
        3,
        "linked, connected, refreshed"
    );
}

#[tokio::test]
async fn a_refused_refresh_expires_the_account_with_the_reason() {
    let db = Db::sqlite();
    let provider = Provider::start(CLIENT_SECRET).await;
    let app = app_on(&db, &provider, &config()).await;
    let who = caller(&app).await;
    let config_id = custom_oauth_config(&app, &who).await;
    let id = connect(&app, &provider, &who, &config_id, "hank").await;
    provider.revoke_access_tokens();
    provider.refuse_refresh(true);
    let result = whoami(&app, &who, "hank").await;
    assert!(!result.successful);
    assert!(
        result
            .error
            .as_deref()
            .unwrap()
            .contains("EXPIRED (token refresh refused: invalid_grant)"),
        "{result:?}"
    );
    let info = app.account_get(&who, &id).await.unwrap();
    assert_eq!(info.status, AccountStatus::Expired);
    assert_eq!(
        info.account.status_reason.as_deref(),
        Some("token refresh refused: invalid_grant")
    );
    // An expired account is no longer selected: the user must connect again.
    let err = app
        .tool_execute(
            &who,
            "ACME_WHOAMI",
            ToolExecution {
                user_id: Some("hank".into()),
                arguments: json!({}),
                ..ToolExecution::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::ConnectedAccountRequired);
    assert!(err.suggested_fix.unwrap().contains(&config_id));
}

/// 100 concurrent calls on an account whose token just expired: one refresh at the provider,
/// every call succeeds. `apps` App instances (separate pools) share the database.
async fn single_flight(db: Db, apps: usize) {
    let provider = Provider::start(CLIENT_SECRET).await;
    let cfg: AppConfig = config();
    let first = app_on(&db, &provider, &cfg).await;
    let who = caller(&first).await;
    let config_id = custom_oauth_config(&first, &who).await;
    provider.set_first_expires_in(0);
    connect(&first, &provider, &who, &config_id, "ivy").await;
    provider.set_refresh_delay(50);
    let mut instances = vec![first];
    for _ in 1..apps {
        instances.push(app_on(&db, &provider, &cfg).await);
    }
    let mut tasks = Vec::new();
    for i in 0..100 {
        let app = instances[i % instances.len()].clone();
        let who = who.clone();
        tasks.push(tokio::spawn(async move { whoami(&app, &who, "ivy").await }));
    }
    for t in tasks {
        let r = t.await.unwrap();
        assert!(r.successful, "{r:?}");
    }
    assert_eq!(
        provider.refresh_requests(),
        1,
        "exactly one refresh for 100 calls"
    );
}

#[tokio::test]
async fn concurrent_calls_refresh_once_in_one_process() {
    single_flight(Db::sqlite(), 1).await;
}

#[tokio::test]
async fn concurrent_calls_refresh_once_across_two_apps_on_sqlite() {
    single_flight(Db::sqlite(), 2).await;
}

#[tokio::test]
async fn concurrent_calls_refresh_once_across_two_apps_on_postgres() {
    if let Some(db) = Db::postgres() {
        single_flight(db, 2).await;
    }
}

#[tokio::test]
async fn selection_creates_the_managed_config_once_and_says_what_to_connect() {
    let db = Db::sqlite();
    let provider = Provider::start(CLIENT_SECRET).await;
    let app = app_on(&db, &provider, &config()).await;
    let who = caller(&app).await;
    let mut seen = Vec::new();
    for _ in 0..2 {
        let err = app
            .tool_execute(
                &who,
                "ACME_WHOAMI",
                ToolExecution {
                    user_id: Some("jo".into()),
                    arguments: json!({}),
                    ..ToolExecution::default()
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::ConnectedAccountRequired);
        seen.push(err.suggested_fix.unwrap());
    }
    assert_eq!(seen[0], seen[1], "the same managed config both times");
    let configs = app
        .auth_config_list(&who, &Default::default())
        .await
        .unwrap();
    assert_eq!(configs.items.len(), 1);
    assert_eq!(configs.items[0].config.origin, AuthConfigOrigin::ToolRouter);

    // No managed app and no config: step 5.
    let err = app
        .tool_execute(
            &who,
            "LONELY_WHOAMI",
            ToolExecution {
                user_id: Some("jo".into()),
                arguments: json!({}),
                ..ToolExecution::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::NoManagedAuth);

    // Connecting with the managed config (operator's app) works like a custom one.
    let config_id = configs.items[0].config.id.to_string();
    connect(&app, &provider, &who, &config_id, "jo").await;
    assert!(whoami(&app, &who, "jo").await.successful);
    let toolkit = app.catalog().toolkit("acme").unwrap();
    match app
        .account_resolve(&who.project_id, "jo", &toolkit, &AccountChoice::default())
        .await
        .unwrap()
    {
        Resolved::Account(a) => assert_eq!(a.user_id, "jo"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn another_project_sees_nothing() {
    let db = Db::sqlite();
    let provider = Provider::start(CLIENT_SECRET).await;
    let app = app_on(&db, &provider, &config()).await;
    let who = caller(&app).await;
    let config_id = custom_oauth_config(&app, &who).await;
    let id = connect(&app, &provider, &who, &config_id, "kim").await;
    let other_project = toolrouter_core::Project {
        id: toolrouter_core::ProjectId::generate(),
        name: "other".into(),
        created_at: toolrouter_core::Timestamp::now(),
    };
    db.store()
        .await
        .project_create(&other_project)
        .await
        .unwrap();
    let stranger = Caller {
        project_id: other_project.id,
        key_id: toolrouter_core::ApiKeyId::generate(),
    };
    assert_eq!(
        app.account_get(&stranger, &id).await.unwrap_err().code,
        ErrorCode::NotFound
    );
    assert_eq!(
        app.auth_config_get(&stranger, &config_id)
            .await
            .unwrap_err()
            .code,
        ErrorCode::NotFound
    );
    assert_eq!(
        app.account_delete(&stranger, &id).await.unwrap_err().code,
        ErrorCode::NotFound
    );
    let err = app
        .tool_execute(
            &stranger,
            "ACME_WHOAMI",
            ToolExecution {
                connected_account_id: Some(id.clone()),
                arguments: json!({}),
                ..ToolExecution::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
    assert!(app.account_get(&who, &id).await.is_ok());
}

#[tokio::test]
async fn a_wrong_master_key_is_refused_and_rotation_reencrypts_everything() {
    let db = Db::sqlite();
    let provider = Provider::start(CLIENT_SECRET).await;
    let app = app_on(&db, &provider, &config()).await;
    app.check_master_key().await.unwrap();
    let who = caller(&app).await;
    let config_id = custom_oauth_config(&app, &who).await;
    let id = connect(&app, &provider, &who, &config_id, "lee").await;

    let other =
        toolrouter_vault::Keyring::parse(&toolrouter_vault::Keyring::generate_key_text().unwrap())
            .unwrap();
    let wrong = App::new(
        db.store().await,
        std::sync::Arc::new(other),
        crate::catalog(&provider),
        &config(),
    );
    let err = wrong.check_master_key().await.unwrap_err();
    assert!(
        err.message
            .contains("the master key does not match this database"),
        "{}",
        err.message
    );

    let new_key = toolrouter_vault::Keyring::generate_key_text().unwrap();
    let rotated =
        toolrouter_vault::Keyring::parse(&format!("{new_key},{}", crate::MASTER_KEY)).unwrap();
    let new_kid = rotated.active_kid().to_owned();
    let app2 = App::new(
        db.store().await,
        std::sync::Arc::new(rotated),
        crate::catalog(&provider),
        &config(),
    );
    let report = app2.reencrypt_all().await.unwrap();
    assert_eq!(
        (report.rewritten, report.skipped),
        (3, 0),
        "the config's secret, the account's tokens, the OAuth state's PKCE verifier"
    );
    let again = app2.reencrypt_all().await.unwrap();
    assert_eq!((again.rewritten, again.current), (0, 3));
    let stored = app2.account_get(&who, &id).await.unwrap();
    assert_eq!(
        toolrouter_vault::Keyring::sealed_kid(stored.account.sealed.as_deref().unwrap()),
        Some(new_kid.as_str())
    );
    assert!(
        whoami(&app2, &who, "lee").await.successful,
        "credentials still work"
    );
    // Only the new key now: everything opens.
    let only_new = toolrouter_vault::Keyring::parse(&new_key).unwrap();
    let app3 = App::new(
        db.store().await,
        std::sync::Arc::new(only_new),
        crate::catalog(&provider),
        &config(),
    );
    app3.check_master_key().await.unwrap();
    assert!(whoami(&app3, &who, "lee").await.successful);
}
