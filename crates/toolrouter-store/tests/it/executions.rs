//! Conformance of the execution log: batches are stored whole, reads stay in their project,
//! filter by session and user, and page newest first; arguments and optional fields round-trip.

use serde_json::json;
use toolrouter_core::{ProjectId, Timestamp};
use toolrouter_store::{ExecutionFilter, ExecutionRecord, PageRequest, StoreError};

use crate::{Harness, project};

fn record(
    project: &ProjectId,
    n: u32,
    session: Option<&str>,
    user: Option<&str>,
) -> ExecutionRecord {
    ExecutionRecord {
        // Time-ordered like the real ids: a later `n` sorts after.
        log_id: format!("log_{n:08}"),
        project_id: project.clone(),
        session_id: session.map(str::to_owned),
        user_id: user.map(str::to_owned),
        tool_slug: format!("TOOL_{n}"),
        connected_account_id: n.is_multiple_of(2).then(|| format!("ca_{n}")),
        successful: !n.is_multiple_of(3),
        error: n.is_multiple_of(3).then(|| format!("failure {n}")),
        duration_ms: i64::from(n) * 7,
        arguments: json!({"n": n, "api_key": "[redacted]", "nested": {"list": [1, 2]}}),
        created_at: Timestamp(1_000 + i64::from(n)),
    }
}

pub(crate) async fn executions_round_trip_filter_and_page(h: &Harness) {
    let s = &h.store;
    let p = project("p", 1);
    let q = project("q", 2);
    s.project_create(&p).await.unwrap();
    s.project_create(&q).await.unwrap();
    let mut mine = Vec::new();
    for n in 1..=7 {
        let session = if n <= 4 { Some("trs_a") } else { None };
        let user = if n % 2 == 0 {
            Some("alice")
        } else {
            Some("bob")
        };
        mine.push(record(&p.id, n, session, user));
    }
    s.execution_insert(&mine).await.unwrap();
    s.execution_insert(&[record(&q.id, 100, Some("trs_a"), Some("alice"))])
        .await
        .unwrap();

    let all = ExecutionFilter::default();
    let page = |cursor: Option<String>, limit| PageRequest { cursor, limit };
    let first = s.execution_list(&p.id, &all, &page(None, 3)).await.unwrap();
    assert_eq!(first.total, 7);
    assert_eq!(first.offset, 0);
    let newest: Vec<ExecutionRecord> = mine.iter().rev().cloned().collect();
    assert_eq!(
        first.items,
        newest[..3].to_vec(),
        "newest first, every field round-trips"
    );
    assert_eq!(first.next_cursor.as_deref(), Some("log_00000005"));
    let second = s
        .execution_list(&p.id, &all, &page(first.next_cursor.clone(), 3))
        .await
        .unwrap();
    assert_eq!(second.offset, 3);
    assert_eq!(second.items, newest[3..6].to_vec());
    let last = s
        .execution_list(&p.id, &all, &page(second.next_cursor.clone(), 3))
        .await
        .unwrap();
    assert_eq!(last.items, newest[6..].to_vec());
    assert_eq!(last.next_cursor, None);

    let in_session = ExecutionFilter {
        session_id: Some("trs_a".to_owned()),
        user_id: None,
    };
    let got = s
        .execution_list(&p.id, &in_session, &page(None, 50))
        .await
        .unwrap();
    let ids: Vec<&str> = got.items.iter().map(|r| r.log_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "log_00000004",
            "log_00000003",
            "log_00000002",
            "log_00000001"
        ],
        "the other project's record in the same session id is not seen"
    );
    let alice_in_session = ExecutionFilter {
        session_id: Some("trs_a".to_owned()),
        user_id: Some("alice".to_owned()),
    };
    let got = s
        .execution_list(&p.id, &alice_in_session, &page(None, 50))
        .await
        .unwrap();
    let ids: Vec<&str> = got.items.iter().map(|r| r.log_id.as_str()).collect();
    assert_eq!(ids, ["log_00000004", "log_00000002"]);
    assert_eq!(got.total, 2);

    let other = s
        .execution_list(&q.id, &all, &page(None, 50))
        .await
        .unwrap();
    assert_eq!(
        other.items,
        vec![record(&q.id, 100, Some("trs_a"), Some("alice"))]
    );
    let nobody = s
        .execution_list(&ProjectId::generate(), &all, &page(None, 50))
        .await
        .unwrap();
    assert!(nobody.items.is_empty() && nobody.total == 0);
}

pub(crate) async fn an_execution_batch_is_stored_whole_or_not_at_all(h: &Harness) {
    let s = &h.store;
    let p = project("p", 1);
    s.project_create(&p).await.unwrap();
    s.execution_insert(&[record(&p.id, 1, None, None)])
        .await
        .unwrap();
    // The second record repeats an id: nothing of the batch is kept.
    let batch = [record(&p.id, 2, None, None), record(&p.id, 1, None, None)];
    let e = s.execution_insert(&batch).await.unwrap_err();
    assert!(matches!(e, StoreError::Conflict { .. }), "{e:?}");
    let got = s
        .execution_list(
            &p.id,
            &ExecutionFilter::default(),
            &PageRequest {
                cursor: None,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(got.items, vec![record(&p.id, 1, None, None)]);
    s.execution_insert(&[]).await.unwrap();
}
