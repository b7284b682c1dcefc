//! Sessions kept in memory by the processes that use them: a change or deletion made through
//! another process on the same database is what the next use sees (at once on SQLite, as soon
//! as PostgreSQL's notification arrives), and the memory never lets another project in.

use std::time::Duration;

use toolrouter_app::session::{NewSession, SessionPatch};
use toolrouter_app::{App, Caller};
use toolrouter_core::ProjectId;
use toolrouter_core::session::{ConfigChange, Field};

use crate::provider::Provider;
use crate::{Db, app_on, caller, config};

/// What `app` serves for the session now, as its config version (`None`: not found).
async fn version(app: &App, caller: &Caller, sid: &str) -> Option<i64> {
    app.session_find(caller, sid)
        .await
        .ok()
        .map(|s| s.config_version)
}

/// The version `app` serves once it is `want`: at once on SQLite, where writers rewrite the
/// change file before they answer; within 5 s on PostgreSQL (a notification).
async fn serves(app: &App, caller: &Caller, sid: &str, want: Option<i64>, at_once: bool) {
    for _ in 0..500 {
        let got = version(app, caller, sid).await;
        if got == want {
            return;
        }
        assert!(!at_once, "served {got:?}, want {want:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("still not serving {want:?} after 5 s");
}

async fn changes_anywhere_reach_the_next_use(db: Db, at_once: bool) {
    let provider = Provider::start(crate::CLIENT_SECRET).await;
    let here = app_on(&db, &provider, &config()).await;
    let there = app_on(&db, &provider, &config()).await;
    let caller = caller(&here).await;
    let sid = here
        .session_create(
            &caller,
            NewSession {
                user_id: "u1".to_owned(),
                ..NewSession::default()
            },
        )
        .await
        .unwrap()
        .session
        .id
        .to_string();
    let proxy = |on: bool| SessionPatch {
        change: ConfigChange {
            proxy_execute: Field::Set(on),
            ..ConfigChange::default()
        },
        ..SessionPatch::default()
    };

    // Used twice here (the second from memory once the listener is up), changed there.
    serves(&here, &caller, &sid, Some(1), false).await;
    assert_eq!(version(&here, &caller, &sid).await, Some(1));
    there
        .session_update(&caller, &sid, &proxy(true))
        .await
        .unwrap();
    serves(&here, &caller, &sid, Some(2), at_once).await;
    let found = here.session_find(&caller, &sid).await.unwrap();
    assert_eq!(found.config.proxy_execute, Some(true));

    // A change made here is served here at once, and there.
    serves(&there, &caller, &sid, Some(2), false).await;
    here.session_update(&caller, &sid, &proxy(false))
        .await
        .unwrap();
    assert_eq!(version(&here, &caller, &sid).await, Some(3));
    serves(&there, &caller, &sid, Some(3), at_once).await;

    // Another project's caller never gets it, in memory or not.
    let stranger = Caller {
        project_id: ProjectId::generate(),
        ..caller.clone()
    };
    assert_eq!(version(&here, &stranger, &sid).await, None);

    // Deleted there: gone here.
    there.session_delete(&caller, &sid).await.unwrap();
    serves(&here, &caller, &sid, None, at_once).await;
}

#[tokio::test]
async fn changes_anywhere_reach_the_next_use_on_sqlite() {
    changes_anywhere_reach_the_next_use(Db::sqlite(), true).await;
}

#[tokio::test]
async fn changes_anywhere_reach_the_next_use_on_postgres() {
    if let Some(db) = Db::postgres() {
        changes_anywhere_reach_the_next_use(db, false).await;
    }
}
