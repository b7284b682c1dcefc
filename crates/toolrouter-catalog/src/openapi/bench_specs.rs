//! Imports the real API descriptions of `shared/bench/openapi/` (Stripe and Box in OpenAPI 3.0,
//! Slack in Swagger 2.0): the counts pin down what the importer does with real-world documents,
//! and every produced toolkit must validate.
//!
//! The files live beside the repository (CI clones `shared/` next to it). A missing file fails
//! the test: a silently skipped test would hide a broken import.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use expect_test::{Expect, expect};
use serde_json::Value;

use super::{ImportOptions, ImportReport, import};
use crate::validate::check_toolkit;

fn spec(file: &str) -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/bench/openapi/"
    );
    let path = format!("{path}{file}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("{path}: {e} (the bench specs must be checked out beside the repository)")
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Imports with `allow_partial`, checks the invariants every import must keep, and summarizes.
fn import_spec(file: &str, slug: &str) -> (ImportReport, String, Duration) {
    let doc = spec(file);
    let opts = ImportOptions {
        allow_partial: true,
        ..ImportOptions::default()
    };
    let started = Instant::now();
    let report = import(&doc, slug, &opts).unwrap_or_else(|e| panic!("{file}: {e}"));
    let elapsed = started.elapsed();
    let problems = check_toolkit(file, &report.toolkit);
    assert!(problems.is_empty(), "{file}: {problems:?}");
    assert_eq!(report.imported, report.toolkit.tools.len());

    // Without allow_partial, any skipped operation refuses the whole import.
    let strict = import(&doc, slug, &ImportOptions::default());
    match (&strict, report.skipped.is_empty()) {
        (Ok(_), true) => {}
        (Err(super::ImportError::Partial(r)), false) => assert_eq!(r.skipped, report.skipped),
        (other, _) => panic!("{file}: strict import gave {other:?}"),
    }

    let mut by_reason: BTreeMap<String, usize> = BTreeMap::new();
    for s in &report.skipped {
        *by_reason.entry(s.reason.clone()).or_default() += 1;
    }
    let mut summary = format!(
        "operations: {}\nimported: {}\nskipped: {}\n",
        report.imported + report.skipped.len(),
        report.imported,
        report.skipped.len()
    );
    for (reason, n) in by_reason {
        summary.push_str(&format!("  {n} × {reason}\n"));
    }
    summary.push_str(&format!("warnings: {}\n", report.warnings.len()));
    (report, summary, elapsed)
}

#[expect(
    clippy::print_stderr,
    reason = "the import time of each real document is worth seeing in test output"
)]
fn check(file: &str, slug: &str, expected: &Expect) -> ImportReport {
    let (report, summary, elapsed) = import_spec(file, slug);
    eprintln!("{file}: imported in {elapsed:?}");
    for w in &report.warnings {
        eprintln!("  warning: {w}");
    }
    expected.assert_eq(&summary);
    report
}

/// One line per auth scheme and per named tool: what a caller of the toolkit relies on.
fn spot_check(report: &ImportReport, slugs: &[&str]) -> String {
    let tk = &report.toolkit;
    let mut out = format!("base_url: {}\n", tk.base_url);
    for a in &tk.auth_schemes {
        let oauth = a
            .oauth2
            .as_ref()
            .map(|o| {
                format!(
                    " {} {} scopes={:?}",
                    o.authorize_url, o.token_url, o.default_scopes
                )
            })
            .unwrap_or_default();
        let fields: Vec<&str> = a.fields.iter().map(|f| f.name.as_str()).collect();
        out.push_str(&format!(
            "auth: {}{oauth} fields={fields:?}\n",
            a.kind.as_str()
        ));
    }
    for slug in slugs {
        let t = tk
            .tools
            .iter()
            .find(|t| t.slug == *slug)
            .unwrap_or_else(|| panic!("{slug} not imported"));
        let mut http = serde_json::to_value(&t.http).expect("serializes");
        if let Some(m) = http.as_object_mut() {
            m.retain(|_, v| {
                !(v.as_object().is_some_and(|o| o.is_empty())
                    || v.as_array().is_some_and(Vec::is_empty))
            });
        }
        let input = t.input.value();
        let props: Vec<&String> = input["properties"]
            .as_object()
            .map(|p| p.keys().collect())
            .unwrap_or_default();
        out.push_str(&format!(
            "{slug}: {http}\n  args={props:?} required={} scopes={:?}\n",
            input.get("required").unwrap_or(&Value::Null),
            t.scopes
        ));
    }
    out
}

#[test]
fn stripe_imports() {
    let report = check(
        "stripe.json",
        "stripe",
        &expect![[r#"
            operations: 417
            imported: 416
            skipped: 1
              1 × served from `https://files.stripe.com`, not under the toolkit base URL `https://api.stripe.com` (one base URL per toolkit)
            warnings: 17
        "#]],
    );
    expect![[r#"
        base_url: https://api.stripe.com
        auth: BASIC fields=["username", "password"]
        auth: BEARER_TOKEN fields=["token"]
        STRIPE_GET_CHARGES: {"body":"json","method":"GET","params":[{"arg":"expand","in":"query","style":"brackets"}],"path":"/v1/charges","response":{"root":""}}
          args=["created", "customer", "ending_before", "expand", "limit", "payment_intent", "starting_after", "transfer_group"] required=null scopes=[]
        STRIPE_POST_CUSTOMERS_CUSTOMER: {"body":"form","method":"POST","path":"/v1/customers/{customer}","response":{"root":""}}
          args=["address", "balance", "bank_account", "card", "coupon", "customer", "default_alipay_account", "default_bank_account", "default_card", "default_source", "description", "email", "expand", "invoice_prefix", "invoice_settings", "metadata", "name", "next_invoice_sequence", "phone", "preferred_locales", "promotion_code", "shipping", "source", "tax", "tax_exempt", "trial_end"] required=["customer"] scopes=[]
        STRIPE_DELETE_CUSTOMERS_CUSTOMER: {"body":"json","method":"DELETE","path":"/v1/customers/{customer}","response":{"root":""}}
          args=["customer"] required=["customer"] scopes=[]
    "#]].assert_eq(&spot_check(
        &report,
        &["STRIPE_GET_CHARGES", "STRIPE_POST_CUSTOMERS_CUSTOMER", "STRIPE_DELETE_CUSTOMERS_CUSTOMER"],
    ));
}

#[test]
fn box_imports() {
    let report = check(
        "box.json",
        "box",
        &expect![[r#"
            operations: 296
            imported: 279
            skipped: 17
              2 × HTTP method OPTIONS is not supported by toolrouter
              1 × request body media type multipart/form-data is not supported (only JSON and form-urlencoded bodies)
              1 × served from `https://account.box.com/api/oauth2`, not under the toolkit base URL `https://api.box.com/2.0` (one base URL per toolkit)
              3 × served from `https://api.box.com`, not under the toolkit base URL `https://api.box.com/2.0` (one base URL per toolkit)
              1 × served from `https://dl.boxcloud.com/2.0`, not under the toolkit base URL `https://api.box.com/2.0` (one base URL per toolkit)
              9 × served from `https://upload.box.com/api/2.0`, not under the toolkit base URL `https://api.box.com/2.0` (one base URL per toolkit)
            warnings: 5
        "#]],
    );
    expect![[r#"
        base_url: https://api.box.com/2.0
        auth: OAUTH2 https://account.box.com/api/oauth2/authorize https://api.box.com/oauth2/token scopes=[] fields=[]
        BOX_GET_FILES_ID: {"body":"json","method":"GET","params":[{"arg":"if-none-match","in":"header"},{"arg":"boxapi","in":"header"},{"arg":"x-rep-hints","in":"header"}],"path":"/files/{file_id}","response":{"root":""}}
          args=["boxapi", "fields", "file_id", "if-none-match", "x-rep-hints"] required=["file_id"] scopes=[]
        BOX_POST_FOLDERS: {"body":"json","method":"POST","params":[{"arg":"fields","in":"query"}],"path":"/folders","response":{"root":""}}
          args=["fields", "folder_upload_email", "name", "parent", "sync_state"] required=["name","parent"] scopes=[]
        BOX_PUT_FILES_ID_METADATA_ID_ID: {"body":"json","headers":{"Content-Type":"application/json-patch+json"},"method":"PUT","params":[{"arg":"body","in":"body_root"}],"path":"/files/{file_id}/metadata/{scope}/{template_key}","response":{"root":""}}
          args=["body", "file_id", "scope", "template_key"] required=["file_id","scope","template_key"] scopes=[]
    "#]].assert_eq(&spot_check(
        &report,
        &["BOX_GET_FILES_ID", "BOX_POST_FOLDERS", "BOX_PUT_FILES_ID_METADATA_ID_ID"],
    ));
}

#[test]
fn slack_swagger2_imports() {
    let report = check(
        "slack-swagger2.json",
        "slack",
        &expect![[r#"
            operations: 174
            imported: 174
            skipped: 0
            warnings: 4
        "#]],
    );
    expect![[r#"
        base_url: https://slack.com/api
        auth: OAUTH2 https://slack.com/oauth/authorize https://slack.com/api/oauth.access scopes=[] fields=[]
        SLACK_CHAT_POST_MESSAGE: {"body":"form","method":"POST","path":"/chat.postMessage","response":{"root":""}}
          args=["as_user", "attachments", "blocks", "channel", "icon_emoji", "icon_url", "link_names", "mrkdwn", "parse", "reply_broadcast", "text", "thread_ts", "unfurl_links", "unfurl_media", "username"] required=["channel"] scopes=["chat:write:user", "chat:write:bot"]
        SLACK_CONVERSATIONS_HISTORY: {"body":"json","method":"GET","path":"/conversations.history","response":{"root":""}}
          args=["channel", "cursor", "inclusive", "latest", "limit", "oldest"] required=null scopes=["channels:history", "groups:history", "im:history", "mpim:history"]
        SLACK_FILES_UPLOAD: {"body":"form","method":"POST","path":"/files.upload","response":{"root":""}}
          args=["channels", "content", "file", "filename", "filetype", "initial_comment", "thread_ts", "title"] required=null scopes=["files:write:user"]
    "#]].assert_eq(&spot_check(
        &report,
        &["SLACK_CHAT_POST_MESSAGE", "SLACK_CONVERSATIONS_HISTORY", "SLACK_FILES_UPLOAD"],
    ));
}
