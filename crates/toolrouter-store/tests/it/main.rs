//! The one conformance suite for every `Store` backend.
//!
//! Each test is written once against `&dyn Store` and expanded for SQLite (a fresh file in a
//! temp dir) and PostgreSQL (a fresh schema in `TEST_DATABASE_URL`). The PostgreSQL half is never
//! skipped silently: without `TEST_DATABASE_URL` it fails, unless `TOOLROUTER_SKIP_PG=1` says
//! so explicitly (CI sets the URL and never the skip).

mod auth;
mod executions;
mod sessions;

use std::sync::Arc;

use toolrouter_core::{ApiKeyId, ApiKeyRecord, Project, ProjectId, Timestamp};
use toolrouter_store::{
    Bootstrap, ConnectOptions, PgStore, SqliteStore, Store, StoreConfig, StoreError,
};

/// A store plus whatever must outlive it (temp dir, schema to drop).
struct Harness {
    store: Arc<dyn Store>,
    config: StoreConfig,
    _dir: Option<tempfile::TempDir>,
    pg_schema: Option<(String, String)>,
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some((url, schema)) = self.pg_schema.take() {
            // Best effort: a leftover schema is harmless, each run uses a fresh name.
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

async fn sqlite() -> Harness {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = StoreConfig::Sqlite {
        path: dir.path().join("toolrouter.db"),
    };
    let store = toolrouter_store::connect(&config, &ConnectOptions::default())
        .await
        .expect("open sqlite");
    Harness {
        store,
        config,
        _dir: Some(dir),
        pg_schema: None,
    }
}

async fn postgres() -> Option<Harness> {
    let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
        if std::env::var("TOOLROUTER_SKIP_PG").as_deref() == Ok("1") {
            #[expect(
                clippy::print_stderr,
                reason = "an explicit skip must be visible in test output"
            )]
            {
                eprintln!("SKIPPED: PostgreSQL conformance (TOOLROUTER_SKIP_PG=1)");
            }
            return None;
        }
        panic!(
            "TEST_DATABASE_URL is not set: the PostgreSQL half of the store suite must run \
             (e.g. TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test), or set \
             TOOLROUTER_SKIP_PG=1 to skip it explicitly"
        );
    };
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let config = StoreConfig::Postgres {
        url: url.clone(),
        schema: Some(schema.clone()),
    };
    let store = toolrouter_store::connect(&config, &ConnectOptions::default())
        .await
        .expect("connect postgres");
    Some(Harness {
        store,
        config,
        _dir: None,
        pg_schema: Some((url, schema)),
    })
}

macro_rules! conformance {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let h = super::sqlite().await;
                    super::$name(&h).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    if let Some(h) = super::postgres().await {
                        super::$name(&h).await;
                    }
                }
            )+
        }
    };
}

conformance!(
    migrations_are_idempotent,
    projects_round_trip,
    api_keys_are_found_by_hash_and_listed_per_project,
    revocation_is_scoped_to_the_owning_project,
    duplicate_hash_is_a_conflict_and_changes_nothing,
    bootstrap_happens_exactly_once_under_concurrency,
    auth_configs_round_trip_filter_and_paginate,
    one_tool_router_config_per_toolkit,
    accounts_filter_paginate_and_stay_in_their_project,
    account_updates_are_compare_and_swap,
    refresh_claims_are_exclusive_until_they_expire,
    oauth_states_are_single_use,
    callback_urls_and_settings,
    sealed_values_are_listed_and_replaced_only_if_unchanged,
    sessions_round_trip_and_stay_in_their_project,
    session_updates_are_compare_and_swap,
    concurrent_updates_have_one_winner_per_version,
    config_history_is_newest_first_and_paginated,
    the_session_epoch_moves_with_every_change_anywhere,
    executions_round_trip_filter_and_page,
    an_execution_batch_is_stored_whole_or_not_at_all,
);

use auth::*;
use executions::*;
use sessions::*;

fn project(name: &str, at: i64) -> Project {
    Project {
        id: ProjectId::generate(),
        name: name.to_owned(),
        created_at: Timestamp(at),
    }
}

fn key(project: &ProjectId, name: &str, hash_byte: u8, at: i64) -> ApiKeyRecord {
    ApiKeyRecord {
        id: ApiKeyId::generate(),
        project_id: project.clone(),
        name: name.to_owned(),
        display_prefix: "trk_abcdefgh".to_owned(),
        hash: vec![hash_byte; 32],
        created_at: Timestamp(at),
        revoked_at: None,
    }
}

async fn migrations_are_idempotent(h: &Harness) {
    assert_eq!(
        toolrouter_store::migrate(&h.config).await.expect("migrate"),
        0
    );
    h.store.ping().await.expect("ping");
}

async fn projects_round_trip(h: &Harness) {
    let s = &h.store;
    let a = project("alpha", 1);
    let b = project("beta", 2);
    s.project_create(&a).await.unwrap();
    s.project_create(&b).await.unwrap();
    assert_eq!(s.project_get(&a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(s.project_get(&ProjectId::generate()).await.unwrap(), None);
    assert_eq!(s.project_list().await.unwrap(), vec![a, b]);
}

async fn api_keys_are_found_by_hash_and_listed_per_project(h: &Harness) {
    let s = &h.store;
    let p = project("p", 1);
    let q = project("q", 2);
    s.project_create(&p).await.unwrap();
    s.project_create(&q).await.unwrap();
    let k1 = key(&p.id, "one", 1, 10);
    let k2 = key(&p.id, "two", 2, 11);
    let k3 = key(&q.id, "three", 3, 12);
    for k in [&k1, &k2, &k3] {
        s.api_key_insert(k).await.unwrap();
    }
    // The second candidate hash matches (a key issued under an older master key).
    let found = s.api_key_find_by_hash(&[[9; 32], [2; 32]]).await.unwrap();
    assert_eq!(found, Some(k2.clone()));
    assert_eq!(s.api_key_find_by_hash(&[[9; 32]]).await.unwrap(), None);
    assert_eq!(s.api_key_list(&p.id).await.unwrap(), vec![k1, k2]);
    assert_eq!(s.api_key_list(&q.id).await.unwrap(), vec![k3]);
}

async fn revocation_is_scoped_to_the_owning_project(h: &Harness) {
    let s = &h.store;
    let p = project("p", 1);
    let q = project("q", 2);
    s.project_create(&p).await.unwrap();
    s.project_create(&q).await.unwrap();
    let k = key(&p.id, "k", 4, 10);
    s.api_key_insert(&k).await.unwrap();
    assert!(!s.api_key_revoke(&q.id, &k.id, Timestamp(20)).await.unwrap());
    let still = s.api_key_find_by_hash(&[[4; 32]]).await.unwrap().unwrap();
    assert!(still.is_active());
    assert!(s.api_key_revoke(&p.id, &k.id, Timestamp(21)).await.unwrap());
    assert!(!s.api_key_revoke(&p.id, &k.id, Timestamp(22)).await.unwrap());
    let gone = s.api_key_find_by_hash(&[[4; 32]]).await.unwrap().unwrap();
    assert_eq!(gone.revoked_at, Some(Timestamp(21)));
}

async fn duplicate_hash_is_a_conflict_and_changes_nothing(h: &Harness) {
    let s = &h.store;
    let p = project("p", 1);
    s.project_create(&p).await.unwrap();
    let k = key(&p.id, "k", 5, 10);
    s.api_key_insert(&k).await.unwrap();
    let dup = key(&p.id, "dup", 5, 11);
    let err = s.api_key_insert(&dup).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { what: "api key" }),
        "{err:?}"
    );
    assert_eq!(s.api_key_list(&p.id).await.unwrap(), vec![k]);
}

async fn bootstrap_happens_exactly_once_under_concurrency(h: &Harness) {
    // Separate connections (a second pool for PostgreSQL) stand in for servers starting at once.
    let second = toolrouter_store::connect(&h.config, &ConnectOptions::default())
        .await
        .expect("second connection");
    let mut tasks = Vec::new();
    for i in 0..8u8 {
        let store = if i % 2 == 0 {
            h.store.clone()
        } else {
            second.clone()
        };
        tasks.push(tokio::spawn(async move {
            let p = project("default", 1);
            let boot = Bootstrap {
                key: key(&p.id, "default", 100 + i, 1),
                project: p,
            };
            store.bootstrap(&boot).await
        }));
    }
    let mut created = 0;
    for t in tasks {
        if t.await.expect("join").expect("bootstrap") {
            created += 1;
        }
    }
    assert_eq!(created, 1);
    let projects = h.store.project_list().await.unwrap();
    assert_eq!(projects.len(), 1);
    assert_eq!(
        h.store.api_key_list(&projects[0].id).await.unwrap().len(),
        1
    );
}

#[tokio::test]
async fn a_closed_sqlite_pool_reports_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("x.db"), &ConnectOptions::default())
        .await
        .unwrap();
    store.close().await;
    let err = store.ping().await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
}

#[tokio::test]
async fn unreachable_postgres_is_unavailable_with_a_clear_message() {
    let opts = ConnectOptions {
        acquire_timeout: std::time::Duration::from_millis(500),
        ..ConnectOptions::default()
    };
    // Port 1 on loopback: nothing listens there.
    let err = PgStore::connect("postgres://nobody@127.0.0.1:1/none", None, &opts)
        .await
        .unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    assert_eq!(
        err.to_string(),
        "database unavailable during connect postgres"
    );
}
