//! Conformance of session storage: project and user scoping, soft deletion, keyset pages,
//! compare-and-swap updates (exactly one winner per version, also under concurrency) and the
//! configuration history. Every rule here holds on both backends.

use std::collections::BTreeMap;

use toolrouter_core::session::{
    ConfigVersion, Hook, HookCheck, HookPoint, ListFilter, Preload, Session, SessionConfig, Tag,
    TagFilter, ToolSelection, ToolkitTools, Toolkits,
};
use toolrouter_core::{AuthConfigId, ConnectedAccountId, ProjectId, SessionId, Timestamp};
use toolrouter_store::{PageRequest, SessionUpdate, Store};

use crate::{Harness, project};

async fn new_project(s: &dyn Store, name: &str) -> ProjectId {
    let p = project(name, 1);
    s.project_create(&p).await.unwrap();
    p.id
}

fn session(project: &ProjectId, user: &str, at: i64) -> Session {
    Session {
        id: SessionId::generate(),
        project_id: project.clone(),
        config: SessionConfig::new(user),
        config_version: 1,
        created_at: Timestamp(at),
        updated_at: Timestamp(at),
    }
}

/// A configuration using every part of the model, so storage cannot drop one silently.
fn rich_config(user: &str) -> SessionConfig {
    let mut c = SessionConfig::new(user);
    c.toolkits = Some(Toolkits {
        filter: Some(ListFilter::Enabled(vec!["gmail".into(), "github".into()])),
        require_approval: Some(vec!["github".into()]),
    });
    c.tools = BTreeMap::from([
        (
            "gmail".to_owned(),
            ToolkitTools {
                selection: Some(ToolSelection::Enabled(vec!["GMAIL_SEND_EMAIL".into()])),
                require_approval: None,
            },
        ),
        (
            "github".to_owned(),
            ToolkitTools {
                selection: Some(ToolSelection::Tags(TagFilter {
                    enabled: Some(vec![Tag::ReadOnly]),
                    disabled: None,
                    require_approval: None,
                })),
                require_approval: None,
            },
        ),
    ]);
    c.tags = Some(TagFilter {
        enabled: None,
        disabled: Some(vec![Tag::Destructive]),
        require_approval: Some(vec![Tag::Create]),
    });
    c.auth_configs = BTreeMap::from([("github".to_owned(), AuthConfigId::generate())]);
    c.connected_accounts =
        BTreeMap::from([("gmail".to_owned(), vec![ConnectedAccountId::generate()])]);
    c.manage_connections.callback_url = Some("https://app.example/cb".into());
    c.workbench.enabled = false;
    c.workbench.proxy_execution = Some(false);
    c.preload = Preload::Tools(vec!["GMAIL_SEND_EMAIL".into()]);
    c.search = Some(false);
    c.proxy_execute = Some(true);
    c.experimental.user_timezone = Some("Europe/London".into());
    c.hooks = vec![Hook {
        id: "h1".into(),
        name: Some("no external mail".into()),
        point: HookPoint::BeforeExecute,
        toolkits: None,
        check: HookCheck::PromptInjection,
    }];
    c
}

fn page(limit: u32, cursor: Option<String>) -> PageRequest {
    PageRequest { cursor, limit }
}

pub(crate) async fn sessions_round_trip_and_stay_in_their_project(h: &Harness) {
    let s = h.store.as_ref();
    let p = new_project(s, "p").await;
    let q = new_project(s, "q").await;
    let mut a = session(&p, "alice", 10);
    a.config = rich_config("alice");
    let b = session(&p, "bob", 11);
    let c = session(&p, "alice", 12);
    let other = session(&q, "alice", 13);
    for x in [&a, &b, &c, &other] {
        s.session_create(x).await.unwrap();
    }

    assert_eq!(s.session_get(&p, &a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(
        s.session_get(&q, &a.id).await.unwrap(),
        None,
        "another project's id finds nothing"
    );
    assert_eq!(
        s.session_get(&p, &SessionId::generate()).await.unwrap(),
        None
    );

    let all = s.session_list(&p, None, &page(10, None)).await.unwrap();
    let ids: Vec<&SessionId> = all.items.iter().map(|x| &x.id).collect();
    assert_eq!(
        ids,
        [&c.id, &b.id, &a.id],
        "newest first, this project only"
    );
    assert_eq!((all.total, all.offset, all.next_cursor), (3, 0, None));

    let alice = s
        .session_list(&p, Some("alice"), &page(1, None))
        .await
        .unwrap();
    assert_eq!(alice.items, std::slice::from_ref(&c));
    assert_eq!((alice.total, alice.offset), (2, 0));
    let rest = s
        .session_list(&p, Some("alice"), &page(1, alice.next_cursor.clone()))
        .await
        .unwrap();
    assert_eq!(rest.items, std::slice::from_ref(&a));
    assert_eq!((rest.total, rest.offset, rest.next_cursor), (2, 1, None));

    assert!(s.session_delete(&p, &c.id, Timestamp(20)).await.unwrap());
    assert!(
        !s.session_delete(&p, &c.id, Timestamp(21)).await.unwrap(),
        "deleting twice finds nothing"
    );
    assert!(!s.session_delete(&q, &a.id, Timestamp(21)).await.unwrap());
    assert_eq!(s.session_get(&p, &c.id).await.unwrap(), None);
    let alice = s
        .session_list(&p, Some("alice"), &page(10, None))
        .await
        .unwrap();
    assert_eq!(
        alice.items,
        std::slice::from_ref(&a),
        "deleted sessions are not listed"
    );
    assert_eq!(
        s.session_config_history(&p, &c.id, &page(10, None))
            .await
            .unwrap(),
        None
    );
}

pub(crate) async fn session_updates_are_compare_and_swap(h: &Harness) {
    let s = h.store.as_ref();
    let p = new_project(s, "p").await;
    let q = new_project(s, "q").await;
    let a = session(&p, "alice", 10);
    s.session_create(&a).await.unwrap();

    let changed = rich_config("alice");
    let updated = match s
        .session_update(&p, &a.id, &changed, 1, Timestamp(20))
        .await
        .unwrap()
    {
        SessionUpdate::Updated(x) => *x,
        other => panic!("{other:?}"),
    };
    assert_eq!(updated.config, changed);
    assert_eq!(updated.config_version, 2);
    assert_eq!(
        (updated.created_at, updated.updated_at),
        (Timestamp(10), Timestamp(20))
    );
    assert_eq!(s.session_get(&p, &a.id).await.unwrap(), Some(updated));

    let stale = s
        .session_update(&p, &a.id, &a.config, 1, Timestamp(30))
        .await
        .unwrap();
    assert_eq!(stale, SessionUpdate::Conflict { current_version: 2 });
    assert_eq!(
        s.session_update(&q, &a.id, &a.config, 2, Timestamp(30))
            .await
            .unwrap(),
        SessionUpdate::NotFound,
        "another project cannot update it"
    );
    s.session_delete(&p, &a.id, Timestamp(40)).await.unwrap();
    assert_eq!(
        s.session_update(&p, &a.id, &a.config, 2, Timestamp(50))
            .await
            .unwrap(),
        SessionUpdate::NotFound
    );
}

pub(crate) async fn concurrent_updates_have_one_winner_per_version(h: &Harness) {
    let p = new_project(h.store.as_ref(), "p").await;
    let a = session(&p, "alice", 10);
    h.store.session_create(&a).await.unwrap();

    let mut tasks = Vec::new();
    for i in 0..8i64 {
        let store = h.store.clone();
        let (p, id) = (p.clone(), a.id.clone());
        tasks.push(tokio::spawn(async move {
            let mut config = SessionConfig::new("alice");
            config.workbench.auto_offload_threshold = 1000 + i as u64;
            store
                .session_update(&p, &id, &config, 1, Timestamp(100 + i))
                .await
                .unwrap()
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            SessionUpdate::Updated(s) => winners.push(*s),
            SessionUpdate::Conflict { current_version } => assert_eq!(current_version, 2),
            SessionUpdate::NotFound => panic!("the session exists"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one update wins version 2");
    let stored = h.store.session_get(&p, &a.id).await.unwrap().unwrap();
    assert_eq!(stored, winners[0]);
    let history = h
        .store
        .session_config_history(&p, &a.id, &page(10, None))
        .await
        .unwrap()
        .unwrap();
    let versions: Vec<i64> = history.items.iter().map(|v| v.version).collect();
    assert_eq!(versions, [2, 1]);
    assert_eq!(history.items[0].config, winners[0].config);
}

pub(crate) async fn config_history_is_newest_first_and_paginated(h: &Harness) {
    let s = h.store.as_ref();
    let p = new_project(s, "p").await;
    let q = new_project(s, "q").await;
    let a = session(&p, "alice", 10);
    s.session_create(&a).await.unwrap();
    let mut expected = vec![ConfigVersion {
        version: 1,
        config: a.config.clone(),
        created_at: Timestamp(10),
    }];
    for v in 1..4i64 {
        let mut config = a.config.clone();
        config.workbench.auto_offload_threshold = v as u64;
        let at = Timestamp(10 + v);
        assert!(matches!(
            s.session_update(&p, &a.id, &config, v, at).await.unwrap(),
            SessionUpdate::Updated(_)
        ));
        expected.push(ConfigVersion {
            version: v + 1,
            config,
            created_at: at,
        });
    }
    expected.reverse();

    let first = s
        .session_config_history(&p, &a.id, &page(3, None))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.items, expected[..3]);
    assert_eq!((first.total, first.offset), (4, 0));
    let second = s
        .session_config_history(&p, &a.id, &page(3, first.next_cursor.clone()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.items, expected[3..]);
    assert_eq!(
        (second.total, second.offset, second.next_cursor),
        (4, 3, None)
    );

    assert_eq!(
        s.session_config_history(&q, &a.id, &page(3, None))
            .await
            .unwrap(),
        None,
        "another project sees no history"
    );
    let garbage = s
        .session_config_history(&p, &a.id, &page(3, Some("x".into())))
        .await
        .unwrap()
        .unwrap();
    assert!(garbage.items.is_empty() && garbage.next_cursor.is_none());
}

/// The epoch once it is known (PostgreSQL's listener connects in the background).
async fn epoch_of(s: &dyn Store) -> u64 {
    for _ in 0..500 {
        if let Some(e) = s.session_epoch() {
            return e;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("no session epoch after 5 s");
}

/// Waits until the epoch is no longer `before` (another process's write arrives by file or
/// notification).
async fn moved_from(s: &dyn Store, before: u64) {
    for _ in 0..500 {
        if s.session_epoch().is_some_and(|e| e != before) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the session epoch did not move in 5 s");
}

/// What lets a process keep sessions in memory: the epoch moves after every update or
/// deletion, at once in the writing store and soon in another store on the same database (a
/// second process), and reads, creations and refused writes leave it alone.
pub(crate) async fn the_session_epoch_moves_with_every_change_anywhere(h: &Harness) {
    let s = &*h.store;
    let other = toolrouter_store::connect(
        &h.config,
        &toolrouter_store::ConnectOptions {
            migrate: false,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let p = new_project(s, "p").await;
    let a = session(&p, "u1", 10);
    s.session_create(&a).await.unwrap();
    let (mine, theirs) = (epoch_of(s).await, epoch_of(&*other).await);

    // Reads and refused writes change nothing.
    s.session_get(&p, &a.id).await.unwrap();
    let stale = s
        .session_update(&p, &a.id, &a.config, 7, Timestamp(11))
        .await
        .unwrap();
    assert_eq!(stale, SessionUpdate::Conflict { current_version: 1 });
    assert!(
        !s.session_delete(&p, &SessionId::generate(), Timestamp(11))
            .await
            .unwrap()
    );
    assert_eq!(s.session_epoch(), Some(mine));

    // An update made through the other store: there at once, here soon.
    let mut changed = a.config.clone();
    changed.proxy_execute = Some(true);
    let done = other
        .session_update(&p, &a.id, &changed, 1, Timestamp(12))
        .await
        .unwrap();
    assert!(matches!(done, SessionUpdate::Updated(_)), "{done:?}");
    assert_ne!(other.session_epoch(), Some(theirs));
    moved_from(s, mine).await;

    // A deletion made here: here at once, there soon.
    let (mine, theirs) = (epoch_of(s).await, epoch_of(&*other).await);
    assert!(s.session_delete(&p, &a.id, Timestamp(13)).await.unwrap());
    assert_ne!(s.session_epoch(), Some(mine));
    moved_from(&*other, theirs).await;
}
