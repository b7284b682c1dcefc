//! The execution log through the app on both backends: the background writer stores each
//! session execution under the `log_id` its answer carried, reads see everything queued before
//! them, and listing pages newest first and stays in its session.

use serde_json::json;
use toolrouter_app::page::PageRequest;
use toolrouter_app::session::NewSession;
use toolrouter_app::session_exec::SessionExecution;

use crate::provider::Provider;
use crate::{Db, app_on, caller, config};

async fn logged_in_order(db: Db) {
    let provider = Provider::start(crate::CLIENT_SECRET).await;
    let app = app_on(&db, &provider, &config()).await;
    let caller = caller(&app).await;
    let new = |user: &str| NewSession {
        user_id: user.to_owned(),
        ..NewSession::default()
    };
    let sid = app
        .session_create(&caller, new("u1"))
        .await
        .unwrap()
        .session
        .id
        .to_string();
    let other = app
        .session_create(&caller, new("u2"))
        .await
        .unwrap()
        .session
        .id
        .to_string();
    let mut ids = Vec::new();
    for (i, slug) in ["ACME_WHOAMI", "KEYCO_WHOAMI", "NOPE_TOOL"]
        .iter()
        .enumerate()
    {
        let run = SessionExecution {
            tool_slug: "COMPOSIO_GET_TOOL_SCHEMAS".to_owned(),
            arguments: json!({"tool_slugs": [slug], "api_key": format!("secret-{i}")}),
            account: None,
            workbench_offload: false,
            approved: false,
        };
        let r = app.session_execute(&caller, &sid, run, true).await.unwrap();
        ids.push(r.log_id);
    }
    let run = SessionExecution {
        tool_slug: "COMPOSIO_GET_TOOL_SCHEMAS".to_owned(),
        arguments: json!({"tool_slugs": ["ACME_WHOAMI"]}),
        account: None,
        workbench_offload: false,
        approved: false,
    };
    app.session_execute(&caller, &other, run, true)
        .await
        .unwrap();

    let page = |limit, cursor: Option<String>| PageRequest {
        limit: Some(limit),
        cursor,
    };
    let first = app
        .session_executions(&caller, &sid, &page(2, None))
        .await
        .unwrap();
    assert_eq!(first.total_items, 3);
    let got: Vec<&str> = first.items.iter().map(|r| r.log_id.as_str()).collect();
    assert_eq!(got, [ids[2].as_str(), ids[1].as_str()]);
    let last = app
        .session_executions(&caller, &sid, &page(2, first.next_cursor.clone()))
        .await
        .unwrap();
    assert_eq!(last.items.len(), 1);
    assert_eq!(last.items[0].log_id, ids[0]);
    assert_eq!(last.next_cursor, None);
    let r = &last.items[0];
    assert_eq!(r.tool_slug, "COMPOSIO_GET_TOOL_SCHEMAS");
    assert_eq!(r.user_id.as_deref(), Some("u1"));
    assert_eq!(r.session_id.as_deref(), Some(sid.as_str()));
    assert!(r.successful);
    assert_eq!(
        r.arguments,
        json!({"tool_slugs": ["ACME_WHOAMI"], "api_key": "[redacted]"})
    );
    // The unknown slug made a failed result, logged as such.
    assert!(!first.items[0].successful);
    assert!(first.items[0].error.is_some());
    let theirs = app
        .session_executions(&caller, &other, &page(10, None))
        .await
        .unwrap();
    assert_eq!(theirs.items.len(), 1);
    assert_eq!(theirs.items[0].user_id.as_deref(), Some("u2"));
}

#[tokio::test]
async fn executions_are_logged_on_sqlite() {
    logged_in_order(Db::sqlite()).await;
}

#[tokio::test]
async fn executions_are_logged_on_postgres() {
    if let Some(db) = Db::postgres() {
        logged_in_order(db).await;
    }
}
