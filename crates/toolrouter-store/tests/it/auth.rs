//! Conformance of the authentication records: auth configs, connected accounts, OAuth states,
//! callback URLs, settings and sealed values. Every rule here holds on both backends.

use std::collections::BTreeMap;
use std::sync::Arc;

use toolrouter_core::auth::StateClaim;
use toolrouter_core::{
    AccountStatus, AuthConfig, AuthConfigId, AuthConfigOrigin, ConnectedAccount,
    ConnectedAccountId, OAuthState, ProjectId, Timestamp,
};
use toolrouter_store::{
    AccountFilter, AuthConfigFilter, PageRequest, SealedColumn, Store, StoreError,
};

use crate::{Harness, project};

async fn new_project(s: &dyn Store) -> ProjectId {
    let p = project("p", 1);
    s.project_create(&p).await.unwrap();
    p.id
}

fn config(p: &ProjectId, toolkit: &str, origin: AuthConfigOrigin, at: i64) -> AuthConfig {
    AuthConfig {
        id: AuthConfigId::generate(),
        project_id: p.clone(),
        toolkit: toolkit.to_owned(),
        name: format!("{toolkit} config"),
        auth_scheme: "OAUTH2".to_owned(),
        managed: origin == AuthConfigOrigin::ToolRouter,
        origin,
        disabled: false,
        scopes: vec!["repo".to_owned()],
        fields: BTreeMap::from([("client_id".to_owned(), "cid".to_owned())]),
        sealed: Some(vec![1, 2, 3]),
        created_at: Timestamp(at),
        updated_at: Timestamp(at),
    }
}

fn account(c: &AuthConfig, user: &str, status: AccountStatus, at: i64) -> ConnectedAccount {
    ConnectedAccount {
        id: ConnectedAccountId::generate(),
        project_id: c.project_id.clone(),
        user_id: user.to_owned(),
        toolkit: c.toolkit.clone(),
        auth_config_id: c.id.clone(),
        status,
        status_reason: None,
        alias: None,
        disabled: false,
        params: BTreeMap::from([("token_type".to_owned(), "Bearer".to_owned())]),
        sealed: None,
        expires_at: None,
        version: 1,
        callback_url: None,
        link_hash: None,
        link_expires_at: None,
        connected_at: None,
        created_at: Timestamp(at),
        updated_at: Timestamp(at),
    }
}

fn page(cursor: Option<String>, limit: u32) -> PageRequest {
    PageRequest { cursor, limit }
}

pub(crate) async fn auth_configs_round_trip_filter_and_paginate(h: &Harness) {
    let s = h.store.as_ref();
    let p = new_project(s).await;
    let other = new_project(s).await;
    let gh = config(&p, "github", AuthConfigOrigin::Api, 10);
    let managed = config(&p, "github", AuthConfigOrigin::ToolRouter, 11);
    let mut slack = config(&p, "slack", AuthConfigOrigin::Api, 12);
    slack.disabled = true;
    slack.name = "Team Slack".to_owned();
    let foreign = config(&other, "github", AuthConfigOrigin::Api, 13);
    for c in [&gh, &managed, &slack, &foreign] {
        s.auth_config_insert(c).await.unwrap();
    }
    assert_eq!(
        s.auth_config_get(&p, &gh.id).await.unwrap(),
        Some(gh.clone())
    );
    assert_eq!(
        s.auth_config_get(&other, &gh.id).await.unwrap(),
        None,
        "scoped to the project"
    );

    s.account_insert(&account(&gh, "u1", AccountStatus::Active, 20))
        .await
        .unwrap();
    s.account_insert(&account(&gh, "u2", AccountStatus::Active, 21))
        .await
        .unwrap();

    let all = AuthConfigFilter {
        include_disabled: true,
        ..AuthConfigFilter::default()
    };
    let first = s.auth_config_list(&p, &all, &page(None, 2)).await.unwrap();
    let ids: Vec<_> = first.items.iter().map(|(c, _)| c.id.clone()).collect();
    assert_eq!(
        ids,
        vec![slack.id.clone(), managed.id.clone()],
        "newest first"
    );
    assert_eq!(first.total, 3);
    let second = s
        .auth_config_list(&p, &all, &page(first.next_cursor.clone(), 2))
        .await
        .unwrap();
    assert_eq!(
        second.items,
        vec![(gh.clone(), 2)],
        "with its number of connections"
    );
    assert_eq!(second.next_cursor, None);

    let enabled = s
        .auth_config_list(&p, &AuthConfigFilter::default(), &page(None, 10))
        .await
        .unwrap();
    assert_eq!(enabled.total, 2, "disabled configs are hidden by default");
    let only_managed = AuthConfigFilter {
        managed: Some(true),
        toolkits: vec!["github".to_owned(), "gmail".to_owned()],
        ..AuthConfigFilter::default()
    };
    let found = s
        .auth_config_list(&p, &only_managed, &page(None, 10))
        .await
        .unwrap();
    assert_eq!(found.items, vec![(managed.clone(), 0)]);
    let search = AuthConfigFilter {
        search: Some("TEAM".to_owned()),
        include_disabled: true,
        ..AuthConfigFilter::default()
    };
    let found = s
        .auth_config_list(&p, &search, &page(None, 10))
        .await
        .unwrap();
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].0.id, slack.id);
    let percent = AuthConfigFilter {
        search: Some("%".to_owned()),
        include_disabled: true,
        ..AuthConfigFilter::default()
    };
    assert_eq!(
        s.auth_config_list(&p, &percent, &page(None, 10))
            .await
            .unwrap()
            .total,
        0
    );

    let mut changed = gh.clone();
    changed.name = "renamed".to_owned();
    changed.disabled = true;
    changed.sealed = None;
    changed.updated_at = Timestamp(30);
    assert!(s.auth_config_update(&changed).await.unwrap());
    assert_eq!(
        s.auth_config_get(&p, &gh.id).await.unwrap(),
        Some(changed.clone())
    );
    let mut stolen = changed.clone();
    stolen.project_id = other.clone();
    assert!(
        !s.auth_config_update(&stolen).await.unwrap(),
        "another project cannot update it"
    );
}

pub(crate) async fn one_tool_router_config_per_toolkit(h: &Harness) {
    let s = h.store.as_ref();
    let p = new_project(s).await;
    s.auth_config_insert(&config(&p, "github", AuthConfigOrigin::ToolRouter, 1))
        .await
        .unwrap();
    let err = s
        .auth_config_insert(&config(&p, "github", AuthConfigOrigin::ToolRouter, 2))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    // Configs created through the API are not limited.
    s.auth_config_insert(&config(&p, "github", AuthConfigOrigin::Api, 3))
        .await
        .unwrap();
    s.auth_config_insert(&config(&p, "github", AuthConfigOrigin::Api, 4))
        .await
        .unwrap();
}

pub(crate) async fn accounts_filter_paginate_and_stay_in_their_project(h: &Harness) {
    let s = h.store.as_ref();
    let p = new_project(s).await;
    let other = new_project(s).await;
    let gh = config(&p, "github", AuthConfigOrigin::Api, 1);
    let slack = config(&p, "slack", AuthConfigOrigin::Api, 2);
    let foreign = config(&other, "github", AuthConfigOrigin::Api, 3);
    for c in [&gh, &slack, &foreign] {
        s.auth_config_insert(c).await.unwrap();
    }
    let mut a1 = account(&gh, "alice", AccountStatus::Active, 10);
    a1.alias = Some("work".to_owned());
    a1.link_hash = Some(vec![7; 32]);
    a1.link_expires_at = Some(Timestamp(99));
    a1.expires_at = Some(Timestamp(1234));
    a1.sealed = Some(vec![9, 9]);
    a1.connected_at = Some(Timestamp(11));
    let a2 = account(&gh, "bob", AccountStatus::Initiated, 11);
    let a3 = account(&slack, "alice", AccountStatus::Expired, 12);
    let a4 = account(&foreign, "alice", AccountStatus::Active, 13);
    for a in [&a1, &a2, &a3, &a4] {
        s.account_insert(a).await.unwrap();
    }
    assert_eq!(s.account_get(&p, &a1.id).await.unwrap(), Some(a1.clone()));
    assert_eq!(s.account_get(&other, &a1.id).await.unwrap(), None);
    assert_eq!(
        s.account_find_by_link(&[7; 32]).await.unwrap(),
        Some(a1.clone())
    );
    assert_eq!(s.account_find_by_link(&[8; 32]).await.unwrap(), None);

    let pr = &p;
    let list = |f: AccountFilter| async move {
        s.account_list(pr, &f, &page(None, 50))
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|a| a.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        list(AccountFilter::default()).await,
        vec![a3.id.clone(), a2.id.clone(), a1.id.clone()]
    );
    let alice = AccountFilter {
        user_ids: vec!["alice".to_owned()],
        ..AccountFilter::default()
    };
    assert_eq!(list(alice).await, vec![a3.id.clone(), a1.id.clone()]);
    let active_github = AccountFilter {
        toolkits: vec!["github".to_owned()],
        statuses: vec![AccountStatus::Active, AccountStatus::Failed],
        ..AccountFilter::default()
    };
    assert_eq!(list(active_github).await, vec![a1.id.clone()]);
    let by_config = AccountFilter {
        auth_config_ids: vec![slack.id.clone()],
        ..AccountFilter::default()
    };
    assert_eq!(list(by_config).await, vec![a3.id.clone()]);
    let by_id = AccountFilter {
        ids: vec![a2.id.clone(), a4.id.clone()],
        ..AccountFilter::default()
    };
    assert_eq!(
        list(by_id).await,
        vec![a2.id.clone()],
        "another project's id matches nothing"
    );

    let first = s
        .account_list(&p, &AccountFilter::default(), &page(None, 2))
        .await
        .unwrap();
    assert_eq!((first.items.len(), first.total), (2, 3));
    let rest = s
        .account_list(&p, &AccountFilter::default(), &page(first.next_cursor, 2))
        .await
        .unwrap();
    assert_eq!(rest.items, vec![a1.clone()]);
    assert_eq!(rest.next_cursor, None);

    assert!(!s.account_delete(&other, &a1.id).await.unwrap());
    assert!(s.account_delete(&p, &a1.id).await.unwrap());
    assert_eq!(s.account_get(&p, &a1.id).await.unwrap(), None);
    // Deleting a config deletes its accounts.
    assert!(s.auth_config_delete(&p, &gh.id).await.unwrap());
    assert_eq!(s.account_get(&p, &a2.id).await.unwrap(), None);
    assert!(!s.auth_config_delete(&p, &gh.id).await.unwrap());
}

pub(crate) async fn account_updates_are_compare_and_swap(h: &Harness) {
    let s = h.store.as_ref();
    let p = new_project(s).await;
    let c = config(&p, "github", AuthConfigOrigin::Api, 1);
    s.auth_config_insert(&c).await.unwrap();
    let a = account(&c, "u", AccountStatus::Initiated, 2);
    s.account_insert(&a).await.unwrap();

    // Two writers read version 1; only the first write lands.
    let mut activated = a.clone();
    activated.status = AccountStatus::Active;
    activated.sealed = Some(vec![1]);
    activated.version = 2;
    activated.connected_at = Some(Timestamp(5));
    activated.link_hash = None;
    let mut failed = a.clone();
    failed.status = AccountStatus::Failed;
    failed.status_reason = Some("access_denied".to_owned());
    failed.version = 2;
    let results = tokio::join!(
        s.account_update(&activated, 1),
        s.account_update(&failed, 1)
    );
    assert_eq!(
        u8::from(results.0.unwrap()) + u8::from(results.1.unwrap()),
        1,
        "exactly one writer wins"
    );
    let stored = s.account_get(&p, &a.id).await.unwrap().unwrap();
    assert_eq!(stored.version, 2);
    assert!(stored == activated || stored == failed, "{stored:?}");
    assert!(
        !s.account_update(&activated, 1).await.unwrap(),
        "a stale version changes nothing"
    );
}

pub(crate) async fn refresh_claims_are_exclusive_until_they_expire(h: &Harness) {
    let s = h.store.as_ref();
    let p = new_project(s).await;
    let c = config(&p, "github", AuthConfigOrigin::Api, 1);
    s.auth_config_insert(&c).await.unwrap();
    let a = account(&c, "u", AccountStatus::Active, 2);
    s.account_insert(&a).await.unwrap();

    assert!(
        !s.account_refresh_claim(&a.id, 2, "x", Timestamp(100), Timestamp(10))
            .await
            .unwrap(),
        "wrong version"
    );
    assert!(
        s.account_refresh_claim(&a.id, 1, "a", Timestamp(100), Timestamp(10))
            .await
            .unwrap()
    );
    assert!(
        !s.account_refresh_claim(&a.id, 1, "b", Timestamp(100), Timestamp(50))
            .await
            .unwrap()
    );
    // An abandoned claim expires.
    assert!(
        s.account_refresh_claim(&a.id, 1, "b", Timestamp(300), Timestamp(101))
            .await
            .unwrap()
    );
    // Releasing someone else's claim does nothing; releasing one's own frees it.
    s.account_refresh_release(&a.id, "a").await.unwrap();
    assert!(
        !s.account_refresh_claim(&a.id, 1, "c", Timestamp(400), Timestamp(102))
            .await
            .unwrap()
    );
    s.account_refresh_release(&a.id, "b").await.unwrap();
    assert!(
        s.account_refresh_claim(&a.id, 1, "c", Timestamp(400), Timestamp(103))
            .await
            .unwrap()
    );
    // Storing the refreshed token releases the claim.
    let mut refreshed = a.clone();
    refreshed.version = 2;
    refreshed.sealed = Some(vec![2]);
    assert!(s.account_update(&refreshed, 1).await.unwrap());
    assert!(
        s.account_refresh_claim(&a.id, 2, "d", Timestamp(500), Timestamp(104))
            .await
            .unwrap()
    );

    // Many claimants at once: one wins.
    let store: Arc<dyn Store> = h.store.clone();
    let mut tasks = Vec::new();
    for i in 0..10 {
        let store = store.clone();
        let id = a.id.clone();
        tasks.push(tokio::spawn(async move {
            store
                .account_refresh_claim(&id, 2, &format!("t{i}"), Timestamp(900), Timestamp(600))
                .await
                .unwrap()
        }));
    }
    let mut won = 0;
    for t in tasks {
        won += u32::from(t.await.unwrap());
    }
    assert_eq!(won, 1);
}

pub(crate) async fn oauth_states_are_single_use(h: &Harness) {
    let s = h.store.as_ref();
    let p = new_project(s).await;
    let c = config(&p, "github", AuthConfigOrigin::Api, 1);
    s.auth_config_insert(&c).await.unwrap();
    let a = account(&c, "u", AccountStatus::Initiated, 2);
    s.account_insert(&a).await.unwrap();
    let state = |id: &str, expires: i64| OAuthState {
        id: id.to_owned(),
        project_id: p.clone(),
        account_id: a.id.clone(),
        sealed_verifier: vec![4, 5, 6],
        redirect_uri: "http://127.0.0.1/link/callback".to_owned(),
        created_at: Timestamp(1),
        expires_at: Timestamp(expires),
    };
    s.oauth_state_insert(&state("live", 1000)).await.unwrap();
    s.oauth_state_insert(&state("stale", 10)).await.unwrap();

    let store: Arc<dyn Store> = h.store.clone();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .oauth_state_claim("live", Timestamp(50))
                .await
                .unwrap()
        }));
    }
    let mut claimed = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            StateClaim::Claimed(st) => claimed.push(st),
            StateClaim::AlreadyUsed => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        claimed,
        vec![state("live", 1000)],
        "exactly one claim succeeds"
    );
    assert_eq!(
        s.oauth_state_claim("live", Timestamp(60)).await.unwrap(),
        StateClaim::AlreadyUsed
    );
    assert_eq!(
        s.oauth_state_claim("stale", Timestamp(60)).await.unwrap(),
        StateClaim::Expired
    );
    assert_eq!(
        s.oauth_state_claim("nope", Timestamp(60)).await.unwrap(),
        StateClaim::NotFound
    );
    // Deleting the account removes its pending states.
    s.oauth_state_insert(&state("pending", 1000)).await.unwrap();
    assert!(s.account_delete(&p, &a.id).await.unwrap());
    assert_eq!(
        s.oauth_state_claim("pending", Timestamp(60)).await.unwrap(),
        StateClaim::NotFound
    );
}

pub(crate) async fn callback_urls_and_settings(h: &Harness) {
    let s = h.store.as_ref();
    let p = new_project(s).await;
    let q = new_project(s).await;
    let urls = vec!["https://b.test/cb".to_owned(), "https://a.test/".to_owned()];
    s.callback_url_replace(&p, &urls, Timestamp(1))
        .await
        .unwrap();
    assert_eq!(
        s.callback_url_list(&p).await.unwrap(),
        vec!["https://a.test/".to_owned(), "https://b.test/cb".to_owned()]
    );
    assert!(s.callback_url_list(&q).await.unwrap().is_empty());
    s.callback_url_replace(&p, &["https://c.test/".to_owned()], Timestamp(2))
        .await
        .unwrap();
    assert_eq!(
        s.callback_url_list(&p).await.unwrap(),
        vec!["https://c.test/".to_owned()]
    );

    assert_eq!(s.meta_get("vault_canary").await.unwrap(), None);
    s.meta_set("vault_canary", "one").await.unwrap();
    s.meta_set("vault_canary", "two").await.unwrap();
    assert_eq!(
        s.meta_get("vault_canary").await.unwrap().as_deref(),
        Some("two")
    );
}

pub(crate) async fn sealed_values_are_listed_and_replaced_only_if_unchanged(h: &Harness) {
    let s = h.store.as_ref();
    let p = new_project(s).await;
    let mut c = config(&p, "github", AuthConfigOrigin::Api, 1);
    c.sealed = Some(b"config-ct".to_vec());
    s.auth_config_insert(&c).await.unwrap();
    let mut none = config(&p, "slack", AuthConfigOrigin::Api, 2);
    none.sealed = None;
    s.auth_config_insert(&none).await.unwrap();
    let mut a = account(&c, "u", AccountStatus::Active, 3);
    a.sealed = Some(b"account-ct".to_vec());
    s.account_insert(&a).await.unwrap();

    assert_eq!(
        s.sealed_list(SealedColumn::AuthConfigSecret).await.unwrap(),
        vec![(c.id.to_string(), b"config-ct".to_vec())]
    );
    assert_eq!(
        s.sealed_list(SealedColumn::AccountSecret).await.unwrap(),
        vec![(a.id.to_string(), b"account-ct".to_vec())]
    );
    assert!(
        s.sealed_list(SealedColumn::OAuthVerifier)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        !s.sealed_replace(SealedColumn::AccountSecret, a.id.as_str(), b"other", b"new")
            .await
            .unwrap(),
        "a value changed meanwhile is left alone"
    );
    assert!(
        s.sealed_replace(
            SealedColumn::AccountSecret,
            a.id.as_str(),
            b"account-ct",
            b"new"
        )
        .await
        .unwrap()
    );
    let stored = s.account_get(&p, &a.id).await.unwrap().unwrap();
    assert_eq!(stored.sealed.as_deref(), Some(&b"new"[..]));
    assert_eq!(
        stored.version, a.version,
        "re-encryption is not a credential change"
    );
}
