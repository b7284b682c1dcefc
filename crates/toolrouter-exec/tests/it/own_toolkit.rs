//! The case runner checked on a toolkit of our own, which uses every placement feature at
//! once, and shown to report what a wrong request looks like: the built-in loop is only as
//! good as the runner's comparisons.

use expect_test::expect;
use serde_json::{Value, json};
use toolrouter_catalog::Catalog;
use toolrouter_catalog::model::ToolkitDef;

use crate::cases::{CasesFile, run_cases};

fn prop(kind: &str) -> Value {
    json!({"type": kind, "description": "An argument of the demo tool."})
}

fn demo_toolkit() -> ToolkitDef {
    let def = json!({
        "slug": "demo", "name": "Demo", "description": "A stand-in service that uses every mapping feature.",
        // A path in the base URL: case paths are full paths, `/v2/...`.
        "base_url": "https://{region}.demo.test/v2",
        "headers": {"Demo-Version": "2024-01-01"},
        "auth_schemes": [{"type": "API_KEY",
            "fields": [{"name": "region", "display_name": "Region"},
                       {"name": "api_key", "display_name": "API key", "secret": true}],
            "inject": [{"in": "header", "name": "X-Demo-Key", "value": "{api_key}"},
                       {"in": "query", "name": "sig", "value": "k-{api_key}"}]}],
        "tools": [
            {"slug": "DEMO_LIST_ITEMS", "name": "List items", "description": "List items, newest first, one page at a time.",
             "input": {"type": "object", "properties": {"q": prop("string"), "tags": prop("array"), "limit": prop("integer"),
                                                        "cursor": prop("string"), "fields": prop("array")}},
             "http": {"method": "GET", "path": "/items",
                      "params": [{"arg": "tags", "in": "query", "name": "tag", "style": "repeat"},
                                 {"arg": "fields", "in": "query", "style": "brackets"}],
                      "query": {"view": "full"},
                      "response": {"root": "/items", "wrap": "items"},
                      "pagination": {"style": "cursor", "param": "cursor", "next": "/next"}}},
            {"slug": "DEMO_GET_FILE", "name": "Get file", "description": "Download a file's text by its path.",
             "input": {"type": "object", "required": ["path"], "properties": {"path": prop("string")}},
             "http": {"method": "GET", "path": "/files/{+path}"}},
            {"slug": "DEMO_CREATE_ITEM", "name": "Create item", "description": "Create an item in a group and return it.",
             "input": {"type": "object", "required": ["group", "title"],
                       "properties": {"group": prop("string"), "title": prop("string"), "labels": prop("array"),
                                      "note": prop("string"), "request_id": prop("string")}},
             "http": {"method": "POST", "path": "/groups/{group}/items", "const_body": {"kind": "item"},
                      "params": [{"arg": "note", "in": "body", "name": "meta.note"},
                                 {"arg": "request_id", "in": "header", "name": "X-Request-Id"}]}},
            {"slug": "DEMO_CHARGE", "name": "Charge", "description": "Create a charge with form-encoded metadata.",
             "input": {"type": "object", "properties": {"amount": prop("integer"), "metadata": prop("object"), "items": prop("array")}},
             "http": {"method": "POST", "path": "/charges", "body": "form"}},
            {"slug": "DEMO_DELETE_ITEM", "name": "Delete item", "description": "Delete an item; returns nothing.",
             "input": {"type": "object", "required": ["id"], "properties": {"id": prop("string")}},
             "http": {"method": "DELETE", "path": "/items/{id}"}},
            {"slug": "DEMO_SEND_MAIL", "name": "Send mail", "description": "Send an email message in a thread.",
             "input": {"type": "object", "properties": {"recipient_email": prop("string"), "subject": prop("string"),
                                                        "body": prop("string"), "thread_id": prop("string")}},
             "http": {"method": "POST", "path": "/mail", "transform": "gmail_raw_message",
                      "params": [{"arg": "raw", "in": "body", "name": "message.raw"},
                                 {"arg": "thread_id", "in": "body", "name": "message.threadId"}]}},
            {"slug": "DEMO_GET_NODE", "name": "Get node", "description": "Fetch one node through the GraphQL endpoint.",
             "input": {"type": "object", "required": ["id"], "properties": {"id": prop("string")}},
             "http": {"method": "POST", "path": "/graphql",
                      "const_body": {"query": "query($id: ID!) { node(id: $id) { id name } }"},
                      "params": [{"arg": "id", "in": "body", "name": "variables.id"}],
                      "response": {"root": "/data/node", "error_pointer": "/errors/0/message"}}}
        ]
    });
    let catalog = Catalog::from_sources([("demo.json".to_owned(), def.to_string())])
        .unwrap_or_else(|e| panic!("the demo toolkit is invalid: {e}"));
    let toolkit = catalog.toolkit("demo").expect("demo is loaded");
    ToolkitDef::clone(toolkit)
}

fn demo_cases() -> Value {
    json!({
        "toolkit": "demo",
        "auth": {"scheme": "API_KEY", "values": {"region": "eu", "api_key": "dk_case"}},
        "expect_auth": {"headers": {"X-Demo-Key": "dk_case"}, "query": {"sig": "k-dk_case"}},
        "cases": [
            {"tool": "DEMO_LIST_ITEMS",
             "arguments": {"q": "a b&c", "tags": ["x", "y"], "limit": 2, "fields": ["id", "name"], "cursor": null},
             "request": {"method": "GET", "path": "/v2/items",
                         "query": {"view": "full", "q": "a b&c", "tag": ["x", "y"], "limit": "2", "fields[]": ["id", "name"]},
                         "headers": {"Demo-Version": "2024-01-01"}},
             "response": {"status": 200, "body": {"items": [{"id": "i1"}], "next": "c2"}},
             "data": {"items": [{"id": "i1"}]}},
            {"tool": "DEMO_GET_FILE", "arguments": {"path": "docs/read me.txt"},
             "request": {"method": "GET", "path": "/v2/files/docs/read%20me.txt", "query": {}, "headers": {}},
             "response": {"status": 200, "body": "plain text"},
             "data": {"text": "plain text"}},
            {"tool": "DEMO_CREATE_ITEM",
             "arguments": {"group": "g/1", "title": "Hello", "labels": ["l"], "note": "n", "request_id": "r-1"},
             "request": {"method": "POST", "path": "/v2/groups/g%2F1/items", "query": {},
                         "headers": {"X-Request-Id": "r-1"},
                         "json": {"kind": "item", "title": "Hello", "labels": ["l"], "meta": {"note": "n"}}},
             "response": {"status": 201, "body": {"id": "i9"}},
             "data": {"id": "i9"}},
            {"tool": "DEMO_CHARGE",
             "arguments": {"amount": 2000, "metadata": {"order": "6735"}, "items": ["a", "b"]},
             "request": {"method": "POST", "path": "/v2/charges", "query": {}, "headers": {},
                         "form": {"amount": "2000", "metadata[order]": "6735", "items[0]": "a", "items[1]": "b"}},
             "response": {"status": 200, "body": {"id": "ch_1"}}},
            {"tool": "DEMO_DELETE_ITEM", "arguments": {"id": "i9"},
             "request": {"method": "DELETE", "path": "/v2/items/i9", "query": {}, "headers": {}},
             "response": {"status": 204, "body": null},
             "data": {}},
            {"tool": "DEMO_SEND_MAIL",
             "arguments": {"recipient_email": "a@demo.test", "subject": "Grüße", "body": "Hallo\nBis bald", "thread_id": "t1"},
             "request": {"method": "POST", "path": "/v2/mail", "query": {}, "headers": {},
                         "json": {"message": {"threadId": "t1", "raw": "VG86IGFAZGVtby50ZXN0DQpTdWJqZWN0OiA9P1VURi04P0I_UjNMRHZNT2ZaUT09Pz0NCk1JTUUtVmVyc2lvbjogMS4wDQpDb250ZW50LVR5cGU6IHRleHQvcGxhaW47IGNoYXJzZXQ9IlVURi04Ig0KQ29udGVudC1UcmFuc2Zlci1FbmNvZGluZzogN2JpdA0KDQpIYWxsbw0KQmlzIGJhbGQ="}}},
             "response": {"status": 200, "body": {"id": "m1"}}},
            {"tool": "DEMO_GET_NODE", "arguments": {"id": "n1"},
             "request": {"method": "POST", "path": "/v2/graphql", "query": {}, "headers": {},
                         "json": {"query": "query($id: ID!) { node(id: $id) { id name } }", "variables": {"id": "n1"}}},
             "response": {"status": 200, "body": {"data": {"node": {"id": "n1", "name": "Node"}}}},
             "data": {"id": "n1", "name": "Node"}}
        ]
    })
}

fn cases_file(value: Value) -> CasesFile {
    serde_json::from_value(value).expect("cases file parses")
}

#[tokio::test]
async fn the_demo_toolkit_sends_exactly_the_documented_requests() {
    let failures = run_cases(&demo_toolkit(), &cases_file(demo_cases())).await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn differences_are_listed_with_toolkit_tool_and_what_differed() {
    let mut cases = demo_cases();
    let list = &mut cases["cases"];
    list[0]["request"]["query"]["limit"] = json!("3");
    list[0]["data"] = json!({"items": []});
    list[2]["request"]["json"]["title"] = json!("Bye");
    list[2]["request"]["headers"]["X-Request-Id"] = json!("r-2");
    list[3]["request"]["form"]["amount"] = json!("1");
    list[4]["request"]["method"] = json!("POST");
    list[4]["request"]["path"] = json!("/v2/items/other");
    if let Some(all) = list.as_array_mut() {
        // The graphql tool loses its case.
        all.pop();
    }
    cases["expect_auth"]["headers"]["X-Demo-Key"] = json!("not-the-key");
    let failures = run_cases(&demo_toolkit(), &cases_file(cases)).await;
    let text = failures.join("\n");
    assert!(
        !text.contains("dk_case"),
        "a credential leaked into the report: {text}"
    );
    expect![[r#"
        demo: tools without a case: DEMO_GET_NODE
        demo DEMO_LIST_ITEMS (case 0): query {"fields[]": ["id", "name"], "limit": ["2"], "q": ["a b&c"], "tag": ["x", "y"], "view": ["full"]} instead of {"fields[]": ["id", "name"], "limit": ["3"], "q": ["a b&c"], "tag": ["x", "y"], "view": ["full"]}
        demo DEMO_LIST_ITEMS (case 0): auth header `X-Demo-Key` has the wrong value
        demo DEMO_LIST_ITEMS (case 0): data is {"items":[{"id":"i1"}]}, the case expects {"items":[]}
        demo DEMO_GET_FILE (case 1): auth header `X-Demo-Key` has the wrong value
        demo DEMO_CREATE_ITEM (case 2): auth header `X-Demo-Key` has the wrong value
        demo DEMO_CREATE_ITEM (case 2): header `X-Request-Id` is `r-1` instead of `r-2`
        demo DEMO_CREATE_ITEM (case 2): JSON body {"kind":"item","labels":["l"],"meta":{"note":"n"},"title":"Hello"} instead of {"kind":"item","labels":["l"],"meta":{"note":"n"},"title":"Bye"}
        demo DEMO_CHARGE (case 3): auth header `X-Demo-Key` has the wrong value
        demo DEMO_CHARGE (case 3): form body {"amount": ["2000"], "items[0]": ["a"], "items[1]": ["b"], "metadata[order]": ["6735"]} instead of {"amount": ["1"], "items[0]": ["a"], "items[1]": ["b"], "metadata[order]": ["6735"]}
        demo DEMO_DELETE_ITEM (case 4): method DELETE instead of POST
        demo DEMO_DELETE_ITEM (case 4): path /v2/items/i9 instead of /v2/items/other
        demo DEMO_DELETE_ITEM (case 4): auth header `X-Demo-Key` has the wrong value
        demo DEMO_SEND_MAIL (case 5): auth header `X-Demo-Key` has the wrong value"#]]
    .assert_eq(&text);
}
