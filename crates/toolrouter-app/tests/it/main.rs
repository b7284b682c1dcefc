//! The app's use cases end to end against real storage (SQLite, and PostgreSQL where the test
//! is about processes sharing a database) and a local OAuth2 provider: auth configs, connect
//! links, the OAuth2 callback, the API-key form, tool execution with credentials, token refresh
//! (proactive, reactive, refused, single-flight across App instances), account selection, and
//! the master key.

mod auth;
mod executions;
mod provider;
mod sessions;

use std::collections::BTreeMap;
use std::sync::Arc;

use toolrouter_app::{App, AppConfig, AuthSettings, Caller, ManagedApp, ToolCatalog};
use toolrouter_catalog::Catalog;
use toolrouter_store::{ConnectOptions, PgStore, Store, StoreConfig};
use toolrouter_vault::Keyring;

use crate::provider::Provider;

pub(crate) const CLIENT_SECRET: &str = "planted-client-secret-9f3b7c";
pub(crate) const MASTER_KEY: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";

/// Two toolkits pointing at the provider: `acme` (OAuth2, or a bearer token) and `keyco` (an
/// API key and a subdomain, both typed into the connect form).
pub(crate) fn catalog(provider: &Provider) -> ToolCatalog {
    let origin = provider.origin();
    let acme = serde_json::json!({
        "slug": "acme", "name": "Acme", "description": "A test service behind OAuth2.",
        "base_url": format!("{origin}/api"),
        "auth_schemes": [
            {"type": "OAUTH2",
             "oauth2": {"authorize_url": format!("{origin}/authorize"), "token_url": format!("{origin}/token"),
                        "default_scopes": ["read"]},
             "inject": [{"in": "header", "name": "Authorization", "value": "Bearer {access_token}"}]},
        ],
        "tools": [{"slug": "ACME_WHOAMI", "name": "Who am I", "description": "Return the authenticated user.",
                   "input": {"type": "object"}, "http": {"method": "GET", "path": "/whoami"}}]
    });
    let keyco = serde_json::json!({
        "slug": "keyco", "name": "KeyCo", "description": "A test service taking an API key.",
        "base_url": format!("{origin}/api"),
        "auth_schemes": [
            {"type": "API_KEY",
             "fields": [{"name": "region", "display_name": "Region"},
                        {"name": "api_key", "display_name": "API key", "secret": true}],
             "inject": [{"in": "header", "name": "Authorization", "value": "Bearer {api_key}"}]},
        ],
        "tools": [{"slug": "KEYCO_WHOAMI", "name": "Who am I", "description": "Return the authenticated user.",
                   "input": {"type": "object"}, "http": {"method": "GET", "path": "/whoami"}}]
    });
    let oauth_only = serde_json::json!({
        "slug": "lonely", "name": "Lonely", "description": "An OAuth2 service with no managed app.",
        "base_url": format!("{origin}/api"),
        "auth_schemes": [
            {"type": "OAUTH2",
             "oauth2": {"authorize_url": format!("{origin}/authorize"), "token_url": format!("{origin}/token")},
             "inject": [{"in": "header", "name": "Authorization", "value": "Bearer {access_token}"}]},
        ],
        "tools": [{"slug": "LONELY_WHOAMI", "name": "Who am I", "description": "Return the authenticated user.",
                   "input": {"type": "object"}, "http": {"method": "GET", "path": "/whoami"}}]
    });
    let sources = [("acme", acme), ("keyco", keyco), ("lonely", oauth_only)]
        .into_iter()
        .map(|(n, d)| (format!("{n}.json"), d.to_string()));
    ToolCatalog::new(Catalog::from_sources(sources).unwrap(), BTreeMap::new()).unwrap()
}

/// Settings the tests start from: loopback allowed for tool calls, the test callback URL
/// allowed, and a managed app for `acme`.
pub(crate) fn config() -> AppConfig {
    let mut auth = AuthSettings {
        public_url: "http://toolrouter.test".to_owned(),
        callback_urls: vec!["https://app.test/connected".to_owned()],
        ..AuthSettings::default()
    };
    auth.managed_apps.insert(
        "acme".to_owned(),
        ManagedApp {
            client_id: provider::CLIENT_ID.to_owned(),
            client_secret: Some(CLIENT_SECRET.to_owned().into()),
            scopes: None,
        },
    );
    AppConfig {
        auth,
        exec: toolrouter_exec::ExecutorConfig {
            policy: toolrouter_exec::OutboundPolicy::public_only().allow_host("127.0.0.1"),
            ..toolrouter_exec::ExecutorConfig::default()
        },
        ..AppConfig::default()
    }
}

/// A database, and what must outlive it.
#[derive(Debug)]
pub(crate) struct Db {
    pub(crate) config: StoreConfig,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some((url, schema)) = self.pg.take() {
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(rt) = rt {
                    let _ = rt.block_on(PgStore::drop_schema(&url, &schema));
                }
            })
            .join();
        }
    }
}

impl Db {
    pub(crate) fn sqlite() -> Db {
        let dir = tempfile::tempdir().unwrap();
        Db {
            config: StoreConfig::Sqlite {
                path: dir.path().join("t.db"),
            },
            _dir: Some(dir),
            pg: None,
        }
    }

    /// A fresh schema in `TEST_DATABASE_URL`; never skipped silently.
    pub(crate) fn postgres() -> Option<Db> {
        let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
            assert_eq!(
                std::env::var("TOOLROUTER_SKIP_PG").as_deref(),
                Ok("1"),
                "TEST_DATABASE_URL is not set (or set TOOLROUTER_SKIP_PG=1 to skip explicitly)"
            );
            return None;
        };
        let schema = format!("app_{}", uuid::Uuid::new_v4().simple());
        Some(Db {
            config: StoreConfig::Postgres {
                url: url.clone(),
                schema: Some(schema.clone()),
            },
            _dir: None,
            pg: Some((url, schema)),
        })
    }

    pub(crate) async fn store(&self) -> Arc<dyn Store> {
        toolrouter_store::connect(&self.config, &ConnectOptions::default())
            .await
            .unwrap()
    }
}

/// An app over `db` (each call a separate pool, as a separate process would have).
pub(crate) async fn app_on(db: &Db, provider: &Provider, config: &AppConfig) -> App {
    let keyring = Keyring::parse(MASTER_KEY).unwrap();
    App::new(
        db.store().await,
        Arc::new(keyring),
        catalog(provider),
        config,
    )
}

/// The project the bootstrap created, as a caller.
pub(crate) async fn caller(app: &App) -> Caller {
    let boot = app.bootstrap().await.unwrap().expect("fresh database");
    Caller {
        project_id: boot.project.id,
        key_id: boot.key.record.id,
    }
}
