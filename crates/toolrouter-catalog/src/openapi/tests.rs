//! Unit tests of the OpenAPI import on small hand-written documents: one behaviour each, shown as
//! the generated definition (or report) so that a change of output is a visible diff.

use expect_test::{Expect, expect};
use serde_json::{Value, json};

use super::{ImportError, ImportOptions, ImportReport, import, text};
use crate::model::ToolDef;
use crate::validate::check_toolkit;

/// A 3.0 document around `paths` (and `components`).
fn doc(paths: Value, components: Value) -> Value {
    let mut d = json!({
        "openapi": "3.0.3",
        "info": {"title": "Demo API", "version": "1", "description": "<p>A demo service.</p>\n\nMore text."},
        "servers": [{"url": "https://api.demo.test/v1/"}],
    });
    d["paths"] = paths;
    d["components"] = components;
    d
}

fn partial() -> ImportOptions {
    ImportOptions {
        allow_partial: true,
        ..ImportOptions::default()
    }
}

/// Imports with `allow_partial` and checks that the toolkit validates, as every import must.
fn run(doc: &Value) -> ImportReport {
    let report = match import(doc, "demo", &partial()) {
        Ok(r) => r,
        Err(e) => panic!("import failed: {e}"),
    };
    let problems = check_toolkit("demo.json", &report.toolkit);
    assert!(problems.is_empty(), "{problems:#?}");
    report
}

fn pretty(v: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(v).expect("serializes")
}

/// The parts of a tool that the import decides, one tool per block.
fn show_tool(t: &ToolDef) -> String {
    let mut http = serde_json::to_value(&t.http).expect("serializes");
    if let Value::Object(m) = &mut http {
        // Defaults the import never changes; they only add noise to the snapshots.
        m.retain(|k, v| {
            !(matches!(k.as_str(), "query" | "headers" | "params")
                && v.as_object().is_some_and(|o| o.is_empty())
                || k == "params" && v.as_array().is_some_and(Vec::is_empty)
                || k == "response" && v == &json!({"root": ""}))
        });
    }
    format!(
        "{} | {}\n{}\ntags: {}{}{}\nhttp: {http}\ninput: {}\n",
        t.slug,
        t.name,
        t.description,
        t.tags.join(", "),
        if t.scopes.is_empty() {
            String::new()
        } else {
            format!("\nscopes: {}", t.scopes.join(", "))
        },
        if t.deprecated { "\ndeprecated" } else { "" },
        pretty(t.input.value()),
    )
}

fn show_report(r: &ImportReport) -> String {
    let mut out = String::new();
    for s in &r.skipped {
        out.push_str(&format!("skipped: {s}\n"));
    }
    for w in &r.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    out
}

fn check_tools(doc: &Value, expected: &Expect) {
    let report = run(doc);
    let mut out: String = report
        .toolkit
        .tools
        .iter()
        .map(show_tool)
        .collect::<Vec<_>>()
        .join("\n");
    out.push_str(&show_report(&report));
    expected.assert_eq(&out);
}

fn check_report(doc: &Value, expected: &Expect) {
    let report = run(doc);
    let slugs: Vec<&str> = report
        .toolkit
        .tools
        .iter()
        .map(|t| t.slug.as_str())
        .collect();
    let out = format!("imported: {}\n{}", slugs.join(", "), show_report(&report));
    expected.assert_eq(&out);
}

fn check_auth(security_schemes: Value, security: Value, expected: &Expect) {
    let mut d = doc(
        json!({"/ping": {"get": {"operationId": "ping", "summary": "Check that the service answers",
                                  "responses": {"204": {"description": "up"}}}}}),
        json!({}),
    );
    d["components"]["securitySchemes"] = security_schemes;
    d["security"] = security;
    let report = run(&d);
    let out = format!(
        "{}\n{}",
        pretty(&report.toolkit.auth_schemes),
        show_report(&report)
    );
    expected.assert_eq(&out);
}

#[test]
fn refs_are_inlined_and_descriptions_filled() {
    let d = doc(
        json!({
            "/pets/{petId}": {
                "parameters": [{"$ref": "#/components/parameters/PetId"}],
                "get": {
                    "operationId": "getPet",
                    "summary": "Get a pet",
                    "description": "Returns one pet with its owner.",
                    "tags": ["pets"],
                    "parameters": [{"name": "fields", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}, "explode": false}],
                    "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}}
                }
            }
        }),
        json!({
            "parameters": {"PetId": {"name": "petId", "in": "path", "required": true, "schema": {"$ref": "#/components/schemas/Id"}}},
            "schemas": {
                "Id": {"type": "string", "format": "uuid"},
                "Owner": {"type": "object", "properties": {"name": {"type": "string"}}},
                "Pet": {"type": "object", "properties": {
                    "id": {"$ref": "#/components/schemas/Id"},
                    "owner": {"$ref": "#/components/schemas/Owner", "description": "Who takes care of it."},
                    "x-internal": {"type": "string"}
                }, "x-vendor": true}
            }
        }),
    );
    let report = run(&d);
    expect![[r#"
        DEMO_GET_PET | Get a pet
        Get a pet

        Returns one pet with its owner.
        tags: readOnlyHint, idempotentHint, openWorldHint, pets
        http: {"body":"json","method":"GET","path":"/pets/{petId}"}
        input: {
          "properties": {
            "fields": {
              "description": "`fields` query parameter.",
              "items": {
                "type": "string"
              },
              "type": "array"
            },
            "petId": {
              "description": "`petId` path parameter.",
              "format": "uuid",
              "type": "string"
            }
          },
          "required": [
            "petId"
          ],
          "type": "object"
        }
    "#]]
    .assert_eq(&show_tool(&report.toolkit.tools[0]));
    expect![[r#"
        {
          "properties": {
            "id": {
              "format": "uuid",
              "type": "string"
            },
            "owner": {
              "description": "Who takes care of it.",
              "properties": {
                "name": {
                  "type": "string"
                }
              },
              "type": "object"
            },
            "x-internal": {
              "type": "string"
            }
          },
          "type": "object"
        }"#]]
    .assert_eq(&pretty(report.toolkit.tools[0].output.value()));
    expect!["Demo API | A demo service. | https://api.demo.test/v1"].assert_eq(&format!(
        "{} | {} | {}",
        report.toolkit.name, report.toolkit.description, report.toolkit.base_url
    ));
}

#[test]
fn recursive_schemas_are_cut_with_a_placeholder() {
    let d = doc(
        json!({"/trees": {"post": {
            "operationId": "createTree",
            "description": "Create a tree of nodes in one call.",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}}},
            "responses": {"201": {"description": "created"}}
        }}}),
        json!({"schemas": {
            "Node": {"type": "object", "required": ["label"], "properties": {
                "label": {"type": "string", "description": "Text of the node."},
                "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                "parent": {"allOf": [{"$ref": "#/components/schemas/Node"}], "description": "The parent node."}
            }}
        }}),
    );
    check_tools(
        &d,
        &expect![[r#"
            DEMO_CREATE_TREE | Create a tree of nodes in one call
            Create a tree of nodes in one call.
            tags: openWorldHint
            http: {"body":"json","method":"POST","path":"/trees"}
            input: {
              "properties": {
                "children": {
                  "description": "`children` field of the request body.",
                  "items": {
                    "description": "(recursive: a `Node`, as described above)",
                    "type": "object"
                  },
                  "type": "array"
                },
                "label": {
                  "description": "Text of the node.",
                  "type": "string"
                },
                "parent": {
                  "description": "The parent node. (recursive: a `Node`, as described above)",
                  "type": "object"
                }
              },
              "required": [
                "label"
              ],
              "type": "object"
            }
        "#]],
    );
}

#[test]
fn parameters_colliding_with_body_properties_are_renamed() {
    let d = doc(
        json!({"/items/{id}": {"put": {
            "operationId": "replaceItem",
            "summary": "Replace an item",
            "parameters": [
                {"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}},
                {"name": "name", "in": "query", "schema": {"type": "string"}, "description": "Lookup name."},
                {"name": "If-Match", "in": "header", "schema": {"type": "string"}},
                {"name": "filter[status]", "in": "query", "schema": {"type": "string"}},
                {"name": "tags", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}}
            ],
            "requestBody": {"content": {"application/json": {"schema": {
                "type": "object", "required": ["name"],
                "properties": {
                    "id": {"type": "string", "description": "New id of the item."},
                    "etag": {"type": "string", "readOnly": true},
                    "name": {"type": "string"},
                    "path_id": {"type": "string", "description": "Already taken."}
                }
            }}}},
            "responses": {"200": {"description": "ok"}}
        }}}),
        json!({}),
    );
    check_tools(
        &d,
        &expect![[r#"
        DEMO_REPLACE_ITEM | Replace an item
        Replace an item. Calls PUT /items/{id} on Demo API.
        tags: idempotentHint, openWorldHint
        http: {"body":"json","method":"PUT","params":[{"arg":"query_name","in":"query","name":"name"},{"arg":"filter_status","in":"query","name":"filter[status]"},{"arg":"tags","in":"query","style":"repeat"},{"arg":"If-Match","in":"header"}],"path":"/items/{path_id_2}"}
        input: {
          "properties": {
            "If-Match": {
              "description": "`If-Match` header parameter.",
              "type": "string"
            },
            "filter_status": {
              "description": "`filter[status]` query parameter.",
              "type": "string"
            },
            "id": {
              "description": "New id of the item.",
              "type": "string"
            },
            "name": {
              "description": "`name` field of the request body.",
              "type": "string"
            },
            "path_id": {
              "description": "Already taken.",
              "type": "string"
            },
            "path_id_2": {
              "description": "`id` path parameter.",
              "type": "integer"
            },
            "query_name": {
              "description": "Lookup name.",
              "type": "string"
            },
            "tags": {
              "description": "`tags` query parameter.",
              "items": {
                "type": "string"
              },
              "type": "array"
            }
          },
          "required": [
            "name",
            "path_id_2"
          ],
          "type": "object"
        }
    "#]],
    );
}

#[test]
fn bodies_that_are_not_objects_become_one_argument() {
    let d = doc(
        json!({
            "/batch": {"post": {
                "operationId": "batch",
                "summary": "Run several commands at once",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "array", "items": {"type": "string"}}}}},
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "array", "items": {"type": "integer"}}}}}}
            }},
            "/tokens": {"post": {
                "operationId": "createToken",
                "summary": "Exchange a code for a token",
                "parameters": [{"name": "body", "in": "query", "schema": {"type": "string"}}],
                "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {"code": {"type": "string"}}}}}},
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "string"}}}}}
            }},
            "/search": {"get": {
                "operationId": "search",
                "summary": "Search with a JSON query",
                "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {"q": {"type": "string"}}}}}},
                "responses": {"200": {"description": "ok"}}
            }}
        }),
        json!({}),
    );
    check_tools(
        &d,
        &expect![[r#"
        DEMO_BATCH | Run several commands at once
        Run several commands at once
        tags: openWorldHint
        http: {"body":"json","method":"POST","params":[{"arg":"body","in":"body_root"}],"path":"/batch","response":{"root":"","wrap":"items"}}
        input: {
          "properties": {
            "body": {
              "description": "The request body.",
              "items": {
                "type": "string"
              },
              "type": "array"
            }
          },
          "required": [
            "body"
          ],
          "type": "object"
        }

        DEMO_SEARCH | Search with a JSON query
        Search with a JSON query
        tags: readOnlyHint, idempotentHint, openWorldHint
        http: {"body":"json","method":"GET","params":[{"arg":"q","in":"body"}],"path":"/search"}
        input: {
          "properties": {
            "q": {
              "description": "`q` field of the request body.",
              "type": "string"
            }
          },
          "type": "object"
        }

        DEMO_CREATE_TOKEN | Exchange a code for a token
        Exchange a code for a token
        tags: openWorldHint
        http: {"body":"form","method":"POST","params":[{"arg":"body","in":"query"}],"path":"/tokens","response":{"root":"","wrap":"value"}}
        input: {
          "properties": {
            "body": {
              "description": "`body` query parameter.",
              "type": "string"
            },
            "code": {
              "description": "`code` field of the request body.",
              "type": "string"
            }
          },
          "type": "object"
        }
    "#]],
    );
}

#[test]
fn unsupported_constructs_are_reported_per_operation() {
    let d = doc(
        json!({
            "/upload": {"post": {
                "operationId": "upload", "summary": "Upload a file",
                "requestBody": {"content": {"multipart/form-data": {"schema": {"type": "object"}}}},
                "responses": {"200": {"description": "ok"}}
            }},
            "/text": {"post": {
                "operationId": "postText", "summary": "Post raw text",
                "requestBody": {"content": {"text/plain": {"schema": {"type": "string"}}}},
                "responses": {"200": {"description": "ok"}}
            }},
            "/session": {"get": {
                "operationId": "getSession", "summary": "Read the session",
                "parameters": [{"name": "sid", "in": "cookie", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok"}}
            }, "options": {"operationId": "sessionOptions", "responses": {"200": {"description": "ok"}}}},
            "/remote": {"get": {
                "operationId": "getRemote", "summary": "Uses a remote schema",
                "parameters": [{"$ref": "common.yaml#/components/parameters/Page"}],
                "responses": {"200": {"description": "ok"}}
            }},
            "/remote-body": {"put": {
                "operationId": "putRemoteBody", "summary": "Body schema in another file",
                "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {"x": {"$ref": "https://example.test/s.json"}}}}}},
                "responses": {"200": {"description": "ok"}}
            }},
            "/dangling": {"get": {
                "operationId": "getDangling", "summary": "Refers to nothing",
                "parameters": [{"name": "q", "in": "query", "schema": {"$ref": "#/components/schemas/Missing"}}],
                "responses": {"200": {"description": "ok"}}
            }},
            "/external": {"$ref": "paths.yaml#/external"},
            "/fine": {"get": {
                "operationId": "getFine", "summary": "The one importable operation",
                "parameters": [
                    {"name": "theme", "in": "cookie", "schema": {"type": "string"}},
                    {"name": "filter", "in": "query", "schema": {"type": "object", "properties": {"a": {"type": "string"}}}, "style": "deepObject"},
                    {"name": "since", "in": "query", "schema": {"anyOf": [{"type": "object", "properties": {"gt": {"type": "integer"}}}, {"type": "integer"}]}, "style": "deepObject"},
                    {"name": "ids", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}, "style": "pipeDelimited"},
                    {"name": "Accept", "in": "header", "schema": {"type": "string"}},
                    {"name": "json", "in": "query", "content": {"application/json": {"schema": {"type": "object"}}}},
                    {"name": "ghost", "in": "path", "required": true, "schema": {"type": "string"}}
                ],
                "responses": {"200": {"description": "ok"}}
            }}
        }),
        json!({}),
    );
    check_report(
        &d,
        &expect![[r#"
            imported: DEMO_GET_FINE
            skipped: GET /dangling (getDangling): $ref `#/components/schemas/Missing` points to nothing in the document
            skipped: * /external: path item: remote $ref `paths.yaml#/external` is not supported (only local `#/...` references)
            skipped: GET /remote (getRemote): parameter: remote $ref `common.yaml#/components/parameters/Page` is not supported (only local `#/...` references)
            skipped: PUT /remote-body (putRemoteBody): remote $ref `https://example.test/s.json` is not supported (only local `#/...` references)
            skipped: GET /session (getSession): required cookie parameter `sid`: cookie parameters are not supported
            skipped: OPTIONS /session (sessionOptions): HTTP method OPTIONS is not supported by toolrouter
            skipped: POST /text (postText): request body media type text/plain is not supported (only JSON and form-urlencoded bodies)
            skipped: POST /upload (upload): request body media type multipart/form-data is not supported (only JSON and form-urlencoded bodies)
            warning: getFine: path parameter `ghost` is not in the path template; left out
            warning: getFine: optional query parameter `filter` left out: object values in the query string (deepObject) are not supported
            warning: getFine: query parameter `since`: its object form (deepObject) cannot be written into a query string; only its other forms are offered
            warning: getFine: optional query parameter `ids` left out: query array style `pipeDelimited` is not supported
            warning: getFine: optional query parameter `json` left out: a parameter serialized by media type (`content`) is not supported
            warning: getFine: header parameter `Accept` ignored, as OpenAPI requires (set by the body encoding or the auth scheme)
            warning: getFine: optional cookie parameter `theme` left out: cookie parameters are not supported
        "#]],
    );

    // Without allow_partial the same document is refused as a whole, with the same report.
    let err = import(&d, "demo", &ImportOptions::default()).expect_err("partial");
    let ImportError::Partial(report) = &err else {
        panic!("expected Partial, got {err:?}");
    };
    assert_eq!(report.skipped.len(), 8);
    assert_eq!(report.imported, 1);
    expect![[r#"
        8 of 9 operations cannot be imported (import with allow_partial to leave them out):
          GET /dangling (getDangling): $ref `#/components/schemas/Missing` points to nothing in the document
          * /external: path item: remote $ref `paths.yaml#/external` is not supported (only local `#/...` references)
          GET /remote (getRemote): parameter: remote $ref `common.yaml#/components/parameters/Page` is not supported (only local `#/...` references)
          PUT /remote-body (putRemoteBody): remote $ref `https://example.test/s.json` is not supported (only local `#/...` references)
          GET /session (getSession): required cookie parameter `sid`: cookie parameters are not supported
          OPTIONS /session (sessionOptions): HTTP method OPTIONS is not supported by toolrouter
          POST /text (postText): request body media type text/plain is not supported (only JSON and form-urlencoded bodies)
          POST /upload (upload): request body media type multipart/form-data is not supported (only JSON and form-urlencoded bodies)"#]].assert_eq(&err.to_string());
}

#[test]
fn tool_slugs_are_unique_and_at_most_60_characters() {
    let long = "listAllTheInvoiceLineItemsForTheUpcomingInvoiceOfACustomerWithTheirDiscounts";
    let longer =
        "listAllTheInvoiceLineItemsForTheUpcomingInvoiceOfACustomerWithTheirDiscountsAndTaxes";
    let ok = |id: &str| json!({"operationId": id, "description": "An operation of the demo service.", "responses": {"200": {"description": "ok"}}});
    let d = doc(
        json!({
            "/a": {"get": ok("getThing"), "post": ok("get_thing"), "put": ok(long), "patch": ok(longer)},
            "/b/{id}#second": {"get": {"description": "No operation id here, but a path.", "responses": {"200": {"description": "ok"}}},
                               "delete": ok("ordersDeleteOrderByIdWithinTheCurrentAccountAndTheirItemsOnTheBackEnd")},
            "/c": {"get": ok("HTTPServerV2Status")}
        }),
        json!({}),
    );
    let report = run(&d);
    let slugs: Vec<String> = report
        .toolkit
        .tools
        .iter()
        .map(|t| {
            format!(
                "{} ({}) {} {}",
                t.slug,
                t.slug.len(),
                t.http.method.as_str(),
                t.http.path
            )
        })
        .collect();
    expect![[r#"
        DEMO_GET_THING (14) GET /a
        DEMO_LIST_ALL_INVOICE_LINE_ITEMS_UPCOMING_INVOICE_CUSTO_E22E (60) PUT /a
        DEMO_GET_THING_2 (16) POST /a
        DEMO_LIST_ALL_INVOICE_LINE_ITEMS_UPCOMING_INVOICE_CUSTO_369E (60) PATCH /a
        DEMO_GET_B_ID_SECOND (20) GET /b/{id}
        DEMO_ORDERS_DELETE_ORDER_ID_WITHIN_CURRENT_ACCOUNT_THEI_9883 (60) DELETE /b/{id}
        DEMO_HTTP_SERVER_V2_STATUS (26) GET /c"#]]
    .assert_eq(&slugs.join("\n"));
}

#[test]
fn methods_give_hints_and_deprecation_carries_over() {
    let op = |id: &str| {
        json!({"operationId": id, "tags": ["things", "things"], "description": "Operation on things.",
                                 "responses": {"200": {"description": "ok"}}})
    };
    let mut deprecated = op("patchThing");
    deprecated["deprecated"] = json!(true);
    let d = doc(
        json!({"/things": {"get": op("listThings"), "head": op("headThings"), "delete": op("deleteThings"),
                           "put": op("putThings"), "post": op("postThings"), "patch": deprecated}}),
        json!({}),
    );
    let report = run(&d);
    let lines: Vec<String> = report
        .toolkit
        .tools
        .iter()
        .map(|t| {
            format!(
                "{}: {}{}",
                t.slug,
                t.tags.join(" "),
                if t.deprecated { " (deprecated)" } else { "" }
            )
        })
        .collect();
    expect![[r#"
        DEMO_LIST_THINGS: readOnlyHint idempotentHint openWorldHint things
        DEMO_PUT_THINGS: idempotentHint openWorldHint things
        DEMO_POST_THINGS: openWorldHint things
        DEMO_DELETE_THINGS: destructiveHint idempotentHint openWorldHint things
        DEMO_HEAD_THINGS: readOnlyHint idempotentHint openWorldHint things
        DEMO_PATCH_THING: openWorldHint things (deprecated)"#]]
    .assert_eq(&lines.join("\n"));
}

#[test]
fn names_and_descriptions_fall_back_when_missing() {
    let d = doc(
        json!({
            "/a": {"get": {"operationId": "a", "responses": {"200": {"description": "ok"}}}},
            "/b": {"get": {"operationId": "b", "summary": "Short", "responses": {"200": {"description": "ok"}}}},
            "/c": {"get": {"operationId": "c", "description": "<p>Returns the <code>c</code> resource. It is &amp; was useful.</p><ul><li>one</li><li>two</li></ul>", "responses": {"200": {"description": "ok"}}}},
            "/d": {"get": {"operationId": "d", "summary": "Get d.", "description": "Get d. With details that matter.", "responses": {"200": {"description": "ok"}}}}
        }),
        json!({}),
    );
    let report = run(&d);
    let lines: Vec<String> = report
        .toolkit
        .tools
        .iter()
        .map(|t| format!("{} | {} | {:?}", t.slug, t.name, t.description))
        .collect();
    expect![[r#"
        DEMO_A | GET /a | "Calls GET /a on Demo API."
        DEMO_B | Short | "Short. Calls GET /b on Demo API."
        DEMO_C | Returns the c resource | "Returns the c resource. It is & was useful.\n\n- one\n- two"
        DEMO_D | Get d | "Get d. With details that matter.""#]].assert_eq(&lines.join("\n"));
}

#[test]
fn outputs_come_from_the_first_json_success_response() {
    let resp = |code: &str, schema: Value| json!({code: {"description": "x", "content": {"application/json": {"schema": schema}}}});
    let mut both = resp(
        "201",
        json!({"type": "object", "properties": {"id": {"type": "string"}, "secret": {"type": "string", "writeOnly": true}}}),
    );
    both["200"] = json!({"description": "no body"});
    both["400"] = json!({"description": "bad", "content": {"application/json": {"schema": {"type": "object", "properties": {"error": {"type": "string"}}}}}});
    let d = doc(
        json!({
            "/list": {"get": {"operationId": "list", "summary": "List the things", "responses": resp("200", json!({"type": "array", "items": {"type": "string"}}))}},
            "/count": {"get": {"operationId": "count", "summary": "Count the things", "responses": resp("2XX", json!({"type": "integer"}))}},
            "/make": {"post": {"operationId": "make", "summary": "Make a thing", "responses": both}},
            "/gone": {"delete": {"operationId": "gone", "summary": "Remove the things", "responses": {"204": {"description": "gone"}}}}
        }),
        json!({}),
    );
    let report = run(&d);
    let lines: Vec<String> = report
        .toolkit
        .tools
        .iter()
        .map(|t| {
            format!(
                "{}: {} {}",
                t.slug,
                t.output,
                serde_json::to_string(&t.http.response).expect("json")
            )
        })
        .collect();
    expect![[r#"
        DEMO_COUNT: {"properties":{"value":{"type":"integer"}},"type":"object"} {"root":"","wrap":"value"}
        DEMO_GONE: {"type":"object"} {"root":""}
        DEMO_LIST: {"properties":{"items":{"items":{"type":"string"},"type":"array"}},"type":"object"} {"root":"","wrap":"items"}
        DEMO_MAKE: {"properties":{"id":{"type":"string"}},"type":"object"} {"root":""}"#]].assert_eq(&lines.join("\n"));
}

#[test]
fn deep_schemas_are_truncated_with_a_note() {
    // Eleven nested levels: deeper than the input limit.
    let mut schema = json!({"type": "string", "description": "The leaf."});
    for i in 0..11 {
        schema = json!({"type": "object", "description": format!("Level {i}."), "properties": {"next": schema}});
    }
    let d = doc(
        json!({"/deep": {"post": {"operationId": "deep", "summary": "Send a deep structure",
            "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {"root": schema}}}}},
            "responses": {"200": {"description": "ok"}}}}}),
        json!({}),
    );
    let report = run(&d);
    let mut node = &report.toolkit.tools[0].input.value()["properties"]["root"];
    let mut levels = 0;
    while let Some(next) = node.get("properties").and_then(|p| p.get("next")) {
        node = next;
        levels += 1;
    }
    expect![[r#"
        8 levels kept; last: {"description":"Level 2. (details not expanded: nested deeper than 8 levels)","type":"object"}
        warning: deep: input schema cut at the depth or size limit (see descriptions marked `details not expanded`)
    "#]].assert_eq(&format!("{levels} levels kept; last: {node}\n{}", show_report(&report)));
}

#[test]
fn oauth2_authorization_code_becomes_oauth2() {
    check_auth(
        json!({"oauth": {"type": "oauth2", "flows": {
            "authorizationCode": {"authorizationUrl": "https://auth.demo.test/authorize", "tokenUrl": "/oauth/token",
                                  "refreshUrl": "https://auth.demo.test/refresh", "scopes": {"read": "Read", "write": "Write"}},
            "clientCredentials": {"tokenUrl": "https://auth.demo.test/token", "scopes": {}}}}}),
        json!([{"oauth": ["read"]}]),
        &expect![[r#"
            [
              {
                "type": "OAUTH2",
                "oauth2": {
                  "authorize_url": "https://auth.demo.test/authorize",
                  "token_url": "https://api.demo.test/oauth/token",
                  "refresh_url": "https://auth.demo.test/refresh",
                  "default_scopes": [
                    "read"
                  ],
                  "scope_separator": " ",
                  "pkce": false,
                  "authorize_params": {},
                  "client_auth": "body"
                },
                "fields": [],
                "inject": [
                  {
                    "in": "header",
                    "name": "Authorization",
                    "value": "Bearer {access_token}"
                  }
                ]
              }
            ]
        "#]],
    );
}

#[test]
fn api_keys_in_header_and_query_become_api_key_schemes() {
    // Two alternatives of the same kind: the catalog takes one per kind, the first.
    check_auth(
        json!({"headerKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "Key from the <b>dashboard</b>."},
               "queryKey": {"type": "apiKey", "in": "query", "name": "api_key"}}),
        json!([{"headerKey": []}, {"queryKey": []}]),
        &expect![[r#"
            [
              {
                "type": "API_KEY",
                "fields": [
                  {
                    "name": "api_key",
                    "display_name": "API key",
                    "description": "Key from the dashboard.",
                    "secret": true,
                    "required": true
                  }
                ],
                "inject": [
                  {
                    "in": "header",
                    "name": "X-API-Key",
                    "value": "{api_key}"
                  }
                ]
              }
            ]
            warning: security requirement `queryKey` is a second API_KEY alternative and is left out (a toolkit offers one scheme per kind)
        "#]],
    );
    check_auth(
        json!({"queryKey": {"type": "apiKey", "in": "query", "name": "key"},
               "token": {"type": "apiKey", "in": "query", "name": "token"}}),
        json!([{"queryKey": [], "token": []}]),
        &expect![[r#"
            [
              {
                "type": "API_KEY",
                "fields": [
                  {
                    "name": "query_key",
                    "display_name": "queryKey",
                    "description": "",
                    "secret": true,
                    "required": true
                  },
                  {
                    "name": "token",
                    "display_name": "token",
                    "description": "",
                    "secret": true,
                    "required": true
                  }
                ],
                "inject": [
                  {
                    "in": "query",
                    "name": "key",
                    "value": "{query_key}"
                  },
                  {
                    "in": "query",
                    "name": "token",
                    "value": "{token}"
                  }
                ]
              }
            ]
        "#]],
    );
}

#[test]
fn http_bearer_and_basic_and_anonymous_alternatives() {
    check_auth(
        json!({"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
               "basic": {"type": "http", "scheme": "Basic"},
               "digest": {"type": "http", "scheme": "digest"}}),
        json!([{"bearer": []}, {"basic": []}, {"digest": []}, {}]),
        &expect![[r#"
            [
              {
                "type": "BEARER_TOKEN",
                "fields": [
                  {
                    "name": "token",
                    "display_name": "Bearer token",
                    "description": "",
                    "secret": true,
                    "required": true
                  }
                ],
                "inject": [
                  {
                    "in": "header",
                    "name": "Authorization",
                    "value": "Bearer {token}"
                  }
                ]
              },
              {
                "type": "BASIC",
                "fields": [
                  {
                    "name": "username",
                    "display_name": "Username",
                    "description": "",
                    "secret": false,
                    "required": true
                  },
                  {
                    "name": "password",
                    "display_name": "Password",
                    "description": "",
                    "secret": true,
                    "required": true
                  }
                ],
                "inject": []
              },
              {
                "type": "NO_AUTH",
                "fields": [],
                "inject": []
              }
            ]
            warning: security scheme `digest`: HTTP auth scheme `digest` is not supported; not offered
        "#]],
    );
}

#[test]
fn bearer_with_a_required_api_key_is_one_scheme() {
    check_auth(
        json!({"bearer": {"type": "http", "scheme": "bearer"},
               "app": {"type": "apiKey", "in": "header", "name": "X-App-Id"}}),
        json!([{"bearer": [], "app": []}]),
        &expect![[r#"
            [
              {
                "type": "BEARER_TOKEN",
                "fields": [
                  {
                    "name": "token",
                    "display_name": "Bearer token",
                    "description": "",
                    "secret": true,
                    "required": true
                  },
                  {
                    "name": "api_key",
                    "display_name": "API key",
                    "description": "",
                    "secret": true,
                    "required": true
                  }
                ],
                "inject": [
                  {
                    "in": "header",
                    "name": "Authorization",
                    "value": "Bearer {token}"
                  },
                  {
                    "in": "header",
                    "name": "X-App-Id",
                    "value": "{api_key}"
                  }
                ]
              }
            ]
        "#]],
    );
}

#[test]
fn unsupported_schemes_are_warnings() {
    check_auth(
        json!({"oidc": {"type": "openIdConnect", "openIdConnectUrl": "https://id.demo.test/.well-known/openid-configuration"},
               "cookie": {"type": "apiKey", "in": "cookie", "name": "session"},
               "implicit": {"type": "oauth2", "flows": {"implicit": {"authorizationUrl": "https://id.demo.test/a", "scopes": {}}}}}),
        json!([{"oidc": []}, {"cookie": []}, {"implicit": []}]),
        &expect![[r#"
            [
              {
                "type": "NO_AUTH",
                "fields": [],
                "inject": []
              }
            ]
            warning: security scheme `oidc`: OpenID Connect discovery is not supported; write an OAUTH2 scheme by hand from https://id.demo.test/.well-known/openid-configuration
            warning: security scheme `cookie`: API keys in a cookie are not supported; not offered
            warning: security scheme `implicit`: OAuth2 without an authorizationCode flow (has: implicit) is not supported; not offered
        "#]],
    );
    // No security at all: the toolkit says so explicitly.
    check_auth(
        json!({}),
        json!([]),
        &expect![[r#"
        [
          {
            "type": "NO_AUTH",
            "fields": [],
            "inject": []
          }
        ]
    "#]],
    );
}

#[test]
fn credential_parameters_are_not_arguments_and_scopes_come_from_requirements() {
    let mut d = doc(
        json!({"/me": {"get": {
            "operationId": "me", "summary": "Who am I",
            "security": [{"oauth": ["profile", "email"]}, {"key": []}],
            "parameters": [{"name": "x-api-key", "in": "header", "required": true, "schema": {"type": "string"}},
                           {"name": "Authorization", "in": "header", "schema": {"type": "string"}},
                           {"name": "token", "in": "query", "required": true, "schema": {"type": "string"},
                            "description": "Authentication token. Requires scope: `profile`"},
                           {"name": "access_token", "in": "header", "schema": {"type": "string"}, "description": "Pagination access marker."}],
            "responses": {"200": {"description": "ok"}}
        }}, "/public": {"get": {"operationId": "public", "summary": "Public status page", "security": [],
            "responses": {"200": {"description": "ok"}}}}}),
        json!({"securitySchemes": {
            "key": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            "oauth": {"type": "oauth2", "flows": {"authorizationCode": {"authorizationUrl": "https://a.test/auth", "tokenUrl": "https://a.test/token", "scopes": {}}}}
        }}),
    );
    d["security"] = json!([{"key": []}]);
    let report = run(&d);
    let out = format!(
        "{}\nauth kinds: {:?}\n{}",
        show_tool(&report.toolkit.tools[0]),
        report
            .toolkit
            .auth_schemes
            .iter()
            .map(|s| s.kind.as_str())
            .collect::<Vec<_>>(),
        show_report(&report)
    );
    expect![[r#"
        DEMO_ME | Who am I
        Who am I. Calls GET /me on Demo API.
        tags: readOnlyHint, idempotentHint, openWorldHint
        scopes: profile, email
        http: {"body":"json","method":"GET","params":[{"arg":"access_token","in":"header"}],"path":"/me"}
        input: {
          "properties": {
            "access_token": {
              "description": "Pagination access marker.",
              "type": "string"
            }
          },
          "type": "object"
        }

        auth kinds: ["API_KEY", "OAUTH2"]
        warning: me: query parameter `token` is the access token, which the auth scheme sends; not an argument
        warning: me: header parameter `x-api-key` is the API key of the auth scheme, which sends it; not an argument
        warning: me: header parameter `Authorization` ignored, as OpenAPI requires (set by the body encoding or the auth scheme)
        warning: public: declares no security (`security: []`) but is called with the toolkit's credentials
    "#]].assert_eq(&out);
}

#[test]
fn base_url_comes_from_servers_or_options() {
    let mut d = doc(
        json!({"/x": {"get": {"operationId": "x", "summary": "Get the x resource", "responses": {"200": {"description": "ok"}}},
                      "put": {"operationId": "putX", "summary": "Put the x resource",
                              "servers": [{"url": "https://{region}.demo.test/v2/extra", "variables": {"region": {"default": "eu"}}}],
                              "responses": {"200": {"description": "ok"}}}},
               "/upload": {"servers": [{"url": "https://upload.demo.test"}],
                           "post": {"operationId": "upload", "summary": "Upload elsewhere", "responses": {"200": {"description": "ok"}}}}}),
        json!({}),
    );
    d["servers"] = json!([{"url": "https://{region}.demo.test/{version}", "variables": {
        "region": {"default": "eu", "enum": ["eu", "us"]}, "version": {"default": "v2"}}}]);
    let report = run(&d);
    let paths: Vec<String> = report
        .toolkit
        .tools
        .iter()
        .map(|t| format!("{} {}", t.http.method.as_str(), t.http.path))
        .collect();
    expect![[r#"
        https://eu.demo.test/v2
        GET /x
        PUT /extra/x
        skipped: POST /upload (upload): served from `https://upload.demo.test`, not under the toolkit base URL `https://eu.demo.test/v2` (one base URL per toolkit)
    "#]].assert_eq(&format!("{}\n{}\n{}", report.toolkit.base_url, paths.join("\n"), show_report(&report)));

    d["servers"] = json!([{"url": "/api"}]);
    let err = import(&d, "demo", &partial()).expect_err("relative");
    expect![
        "the document's server URL `/api` is relative: give the API's absolute base URL explicitly"
    ]
    .assert_eq(&err.to_string());
    let opts = ImportOptions {
        base_url: Some("https://proxy.test/demo/".to_owned()),
        name: Some("Demo (proxied)".to_owned()),
        ..partial()
    };
    let report = import(&d, "demo", &opts).expect("imports with an explicit base URL");
    expect!["https://proxy.test/demo | Demo (proxied) | /x"].assert_eq(&format!(
        "{} | {} | {}",
        report.toolkit.base_url,
        report.toolkit.name,
        report
            .toolkit
            .tools
            .iter()
            .map(|t| t.http.path.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    ));

    // An explicit base URL replaces the document's server; operations served under that server
    // keep their extra path.
    d["servers"] = json!([{"url": "https://{region}.demo.test/v2", "variables": {"region": {"default": "eu"}}}]);
    let report = import(&d, "demo", &opts).expect("imports with an explicit base URL");
    expect!["https://proxy.test/demo | /x /extra/x"].assert_eq(&format!(
        "{} | {}",
        report.toolkit.base_url,
        report
            .toolkit
            .tools
            .iter()
            .map(|t| t.http.path.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    ));
}

#[test]
fn documents_that_cannot_be_imported_say_why() {
    let cases = [
        (json!({"swagger": "1.2"}), "demo"),
        (json!({"openapi": "2.5"}), "demo"),
        (json!({"info": {}}), "demo"),
        (json!([1]), "demo"),
        (doc(json!({}), json!({})), "demo"),
        (
            doc(
                json!({"/u": {"post": {"operationId": "u", "requestBody": {"content": {"image/png": {}}}, "responses": {}}}}),
                json!({}),
            ),
            "demo",
        ),
        (doc(json!({}), json!({})), "Demo-Kit"),
    ];
    let out: Vec<String> = cases
        .iter()
        .map(|(d, slug)| match import(d, slug, &partial()) {
            Ok(_) => "imported".to_owned(),
            Err(e) => e.to_string(),
        })
        .collect();
    expect![[r#"
        unsupported Swagger version `1.2` (this importer reads Swagger 2.0, OpenAPI 3.0 and 3.1)
        unsupported OpenAPI version `2.5` (this importer reads 3.0, 3.1 and Swagger 2.0)
        not an OpenAPI document: neither `openapi` nor `swagger` is set
        an OpenAPI document must be a JSON object
        the document has no operations under `paths`
        none of the 1 operations can be imported:
          POST /u (u): request body media type image/png is not supported (only JSON and form-urlencoded bodies)
        toolkit slug `Demo-Kit` must match [a-z0-9_]+"#]].assert_eq(&out.join("\n"));
}

#[test]
fn swagger2_documents_are_converted() {
    let d = json!({
        "swagger": "2.0",
        "info": {"title": "Legacy API", "version": "1"},
        "host": "legacy.demo.test",
        "basePath": "/api",
        "schemes": ["http", "https"],
        "consumes": ["application/json"],
        "securityDefinitions": {
            "key": {"type": "apiKey", "in": "query", "name": "api_key"},
            "oauth": {"type": "oauth2", "flow": "accessCode", "authorizationUrl": "https://legacy.demo.test/oauth/authorize",
                      "tokenUrl": "https://legacy.demo.test/oauth/token", "scopes": {"read": "Read"}}
        },
        "security": [{"oauth": ["read"]}, {"key": []}],
        "parameters": {"Limit": {"name": "limit", "in": "query", "type": "integer", "description": "Page size."}},
        "definitions": {
            "Pet": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, "tag": {"$ref": "#/definitions/Tag"}}},
            "Tag": {"type": "object", "properties": {"label": {"type": "string", "x-nullable": true}}}
        },
        "paths": {
            "/pets": {
                "get": {"operationId": "listPets", "summary": "List pets",
                        "parameters": [{"$ref": "#/parameters/Limit"},
                                       {"name": "ids", "in": "query", "type": "array", "items": {"type": "string"}, "collectionFormat": "multi"},
                                       {"name": "sort", "in": "query", "type": "array", "items": {"type": "string"}},
                                       {"name": "api_key", "in": "query", "type": "string"}],
                        "responses": {"200": {"description": "ok", "schema": {"type": "array", "items": {"$ref": "#/definitions/Pet"}}}}},
                "post": {"operationId": "createPet", "summary": "Create a pet",
                         "parameters": [{"name": "pet", "in": "body", "required": true, "schema": {"$ref": "#/definitions/Pet"}}],
                         "responses": {"201": {"description": "created", "schema": {"$ref": "#/definitions/Pet"}}}}
            },
            "/pets/{id}/photo": {
                "parameters": [{"name": "id", "in": "path", "required": true, "type": "string"}],
                "post": {"operationId": "uploadPhoto", "summary": "Upload a photo", "consumes": ["multipart/form-data"],
                         "parameters": [{"name": "file", "in": "formData", "type": "file", "required": true}],
                         "responses": {"200": {"description": "ok"}}},
                "put": {"operationId": "describePhoto", "summary": "Describe a photo", "consumes": ["application/x-www-form-urlencoded"],
                        "parameters": [{"name": "caption", "in": "formData", "type": "string", "required": true, "description": "Caption text."},
                                       {"name": "ids", "in": "query", "type": "array", "items": {"type": "string"}, "collectionFormat": "tsv"}],
                        "responses": {"200": {"description": "ok"}}}
            }
        }
    });
    let report = run(&d);
    let mut out: String = report
        .toolkit
        .tools
        .iter()
        .map(show_tool)
        .collect::<Vec<_>>()
        .join("\n");
    out.push_str(&show_report(&report));
    out.push_str(&format!(
        "base_url: {}\nauth: {}\n",
        report.toolkit.base_url,
        serde_json::to_string(&report.toolkit.auth_schemes).expect("json")
    ));
    out.push_str(&format!(
        "listPets output: {}\n",
        report.toolkit.tools[0].output
    ));
    expect![[r#"
        DEMO_LIST_PETS | List pets
        List pets. Calls GET /pets on Legacy API.
        tags: readOnlyHint, idempotentHint, openWorldHint
        scopes: read
        http: {"body":"json","method":"GET","params":[{"arg":"ids","in":"query","style":"repeat"}],"path":"/pets","response":{"root":"","wrap":"items"}}
        input: {
          "properties": {
            "ids": {
              "description": "`ids` query parameter.",
              "items": {
                "type": "string"
              },
              "type": "array"
            },
            "limit": {
              "description": "Page size.",
              "type": "integer"
            },
            "sort": {
              "description": "`sort` query parameter.",
              "items": {
                "type": "string"
              },
              "type": "array"
            }
          },
          "type": "object"
        }

        DEMO_CREATE_PET | Create a pet
        Create a pet. Calls POST /pets on Legacy API.
        tags: openWorldHint
        scopes: read
        http: {"body":"json","method":"POST","path":"/pets"}
        input: {
          "properties": {
            "name": {
              "description": "`name` field of the request body.",
              "type": "string"
            },
            "tag": {
              "description": "`tag` field of the request body.",
              "properties": {
                "label": {
                  "nullable": true,
                  "type": "string"
                }
              },
              "type": "object"
            }
          },
          "required": [
            "name"
          ],
          "type": "object"
        }

        DEMO_DESCRIBE_PHOTO | Describe a photo
        Describe a photo. Calls PUT /pets/{id}/photo on Legacy API.
        tags: idempotentHint, openWorldHint
        scopes: read
        http: {"body":"form","method":"PUT","path":"/pets/{id}/photo"}
        input: {
          "properties": {
            "caption": {
              "description": "Caption text.",
              "type": "string"
            },
            "id": {
              "description": "`id` path parameter.",
              "type": "string"
            }
          },
          "required": [
            "caption",
            "id"
          ],
          "type": "object"
        }
        skipped: POST /pets/{id}/photo (uploadPhoto): request body media type multipart/form-data is not supported (only JSON and form-urlencoded bodies)
        warning: listPets: query parameter `api_key` is the API key of the auth scheme, which sends it; not an argument
        warning: describePhoto: optional query parameter `ids` left out: query array style `tsv` is not supported
        base_url: https://legacy.demo.test/api
        auth: [{"type":"OAUTH2","oauth2":{"authorize_url":"https://legacy.demo.test/oauth/authorize","token_url":"https://legacy.demo.test/oauth/token","default_scopes":["read"],"scope_separator":" ","pkce":false,"authorize_params":{},"client_auth":"body"},"fields":[],"inject":[{"in":"header","name":"Authorization","value":"Bearer {access_token}"}]},{"type":"API_KEY","fields":[{"name":"api_key","display_name":"API key","description":"","secret":true,"required":true}],"inject":[{"in":"query","name":"api_key","value":"{api_key}"}]}]
        listPets output: {"properties":{"items":{"items":{"properties":{"name":{"type":"string"},"tag":{"properties":{"label":{"nullable":true,"type":"string"}},"type":"object"}},"required":["name"],"type":"object"},"type":"array"}},"type":"object"}
    "#]].assert_eq(&out);
}

#[test]
fn openapi_31_type_arrays_and_ref_siblings() {
    let mut d = doc(
        json!({"/notes": {"post": {
            "operationId": "createNote", "summary": "Create a note",
            "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Note"}}}},
            "responses": {"201": {"description": "ok"}}
        }}}),
        json!({"schemas": {
            "Base": {"type": "object", "properties": {"id": {"type": "string", "readOnly": true}}},
            "Note": {"allOf": [{"$ref": "#/components/schemas/Base"},
                               {"type": "object", "required": ["text"], "properties": {
                                   "text": {"type": ["string", "null"], "description": "Body of the note."},
                                   "anything": {},
                                   "fixed": {"const": 3}}}]}
        }}),
    );
    d["openapi"] = json!("3.1.0");
    check_tools(
        &d,
        &expect![[r#"
        DEMO_CREATE_NOTE | Create a note
        Create a note. Calls POST /notes on Demo API.
        tags: openWorldHint
        http: {"body":"json","method":"POST","path":"/notes"}
        input: {
          "properties": {
            "anything": {
              "description": "`anything` field of the request body.",
              "type": [
                "string",
                "number",
                "integer",
                "boolean",
                "object",
                "array",
                "null"
              ]
            },
            "fixed": {
              "const": 3,
              "description": "`fixed` field of the request body.",
              "type": "number"
            },
            "text": {
              "description": "Body of the note.",
              "type": [
                "string",
                "null"
              ]
            }
          },
          "required": [
            "text"
          ],
          "type": "object"
        }
    "#]],
    );
}

#[test]
fn text_helpers() {
    assert_eq!(text::upper_snake("chat_postMessage"), "CHAT_POST_MESSAGE");
    assert_eq!(
        text::upper_snake("GetV1HTTPServer2fa"),
        "GET_V1_HTTP_SERVER2FA"
    );
    assert_eq!(text::upper_snake("get /pets/{id}"), "GET_PETS_ID");
    assert_eq!(text::arg_name("filter[status]"), "filter_status");
    assert_eq!(text::arg_name("If-Match"), "If-Match");
    assert_eq!(text::arg_name("%%%"), "param");
    assert_eq!(
        text::clean("Use <api_key> &amp; <b>bold</b>"),
        "Use <api_key> & bold"
    );
    assert_eq!(text::truncate("one two three", 10), "one two…");
    assert_eq!(text::truncate("one two three", 9), "one…");
    assert_eq!(text::truncate("short", 9), "short");
}
