//! The catalog endpoints (`/api/v3.1/toolkits…`, `/api/v3.1/tools…`) against the built-in
//! toolkits: the contract's object shapes, every filter, cursor pagination walked to the end,
//! and the 404s and 400s that name what was wrong.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};
use toolrouter_catalog::Catalog;
use toolrouter_http::HttpConfig;

use super::{Server, envelope, start};

async fn get(s: &Server, key: &str, path: &str) -> Value {
    let (st, _, body) = s.call("GET", path, Some(key), None).await;
    assert_eq!(st, StatusCode::OK, "{path}: {body}");
    body
}

/// Asserts an error response and returns its envelope.
async fn get_err(s: &Server, key: &str, path: &str, status: u16) -> Value {
    let (st, h, body) = s.call("GET", path, Some(key), None).await;
    assert_eq!(st.as_u16(), status, "{path}: {body}");
    envelope(st, &h, &body)
}

fn slugs(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap().to_owned())
        .collect()
}

/// Follows `next_cursor` from `first` to the last page; returns every item, in order.
async fn walk(s: &Server, key: &str, first: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut path = first.to_owned();
    let mut page_no = 1;
    loop {
        let page = get(s, key, &path).await;
        assert_eq!(page["current_page"], json!(page_no), "{path}");
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match &page["next_cursor"] {
            Value::Null => {
                assert_eq!(page["total_pages"], json!(page_no), "{path}");
                assert_eq!(page["total_items"], json!(items.len()), "{path}");
                return items;
            }
            Value::String(c) => {
                let sep = if first.contains('?') { '&' } else { '?' };
                path = format!("{first}{sep}cursor={c}");
                page_no += 1;
            }
            other => panic!("next_cursor must be a string or null, got {other}"),
        }
    }
}

/// Every key CONTRACT.md §5.1 requires of a `Tool`, with its type.
fn assert_tool_shape(t: &Value) {
    for key in ["slug", "name", "description", "version"] {
        assert!(t[key].is_string(), "{key}: {t}");
    }
    for key in ["slug", "name", "logo"] {
        assert!(t["toolkit"][key].is_string(), "toolkit.{key}: {t}");
    }
    assert_eq!(t["input_parameters"]["type"], "object", "{t}");
    assert!(t["output_parameters"].is_object(), "{t}");
    for key in ["no_auth", "is_deprecated"] {
        assert!(t[key].is_boolean(), "{key}: {t}");
    }
    for key in ["available_versions", "scopes", "tags"] {
        assert!(t[key].is_array(), "{key}: {t}");
    }
    let d = &t["deprecated"];
    assert!(
        d["displayName"].is_string() && d["version"].is_string(),
        "{t}"
    );
    assert!(
        d["available_versions"].is_array() && d["is_deprecated"].is_boolean(),
        "{t}"
    );
    assert!(d["toolkit"]["logo"].is_string(), "{t}");
}

#[tokio::test]
async fn every_catalog_route_requires_an_api_key() {
    let (s, _) = start(HttpConfig::default()).await;
    for path in [
        "/api/v3.1/toolkits",
        "/api/v3.1/toolkits/github",
        "/api/v3.1/toolkits/categories",
        "/api/v3.1/tools",
        "/api/v3.1/tools/enum",
        "/api/v3.1/tools/GITHUB_CREATE_ISSUE",
    ] {
        let (st, h, b) = s.call("GET", path, None, None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(envelope(st, &h, &b)["slug"], "missing_api_key");
    }
}

#[tokio::test]
async fn walking_every_tool_page_yields_the_whole_catalog_once() {
    let (s, key) = start(HttpConfig::default()).await;
    let catalog = Catalog::builtin().unwrap();
    // An odd page size, so the last page is partial.
    let items = walk(&s, &key, "/api/v3.1/tools?limit=37").await;
    assert_eq!(items.len(), catalog.tool_count());
    let unique: BTreeSet<&str> = items.iter().map(|t| t["slug"].as_str().unwrap()).collect();
    assert_eq!(unique.len(), items.len(), "no tool appears twice");
    for t in &items {
        assert_tool_shape(t);
    }
    let expected: Vec<&str> = catalog
        .toolkits()
        .iter()
        .flat_map(|tk| tk.tools.iter().map(|t| t.slug.as_str()))
        .collect();
    let got: Vec<&str> = items.iter().map(|t| t["slug"].as_str().unwrap()).collect();
    assert_eq!(got, expected, "catalog order");

    // The default page size is 20 and the enum lists every slug.
    let first = get(&s, &key, "/api/v3.1/tools").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 20);
    assert_eq!(first["total_items"], json!(catalog.tool_count()));
    let all = get(&s, &key, "/api/v3.1/tools/enum").await;
    assert_eq!(all, json!(expected));
}

#[tokio::test]
async fn a_tool_is_the_contract_object_built_from_its_definition() {
    let (s, key) = start(HttpConfig::default()).await;
    let catalog = Catalog::builtin().unwrap();
    let (tk, def) = catalog.tool("GITHUB_CREATE_ISSUE").unwrap();
    let t = get(&s, &key, "/api/v3.1/tools/GITHUB_CREATE_ISSUE").await;
    assert_tool_shape(&t);
    assert_eq!(t["name"], json!(def.name));
    assert_eq!(t["description"], json!(def.description));
    assert_eq!(t["input_parameters"], *def.input.value());
    assert_eq!(t["output_parameters"], *def.output.value());
    assert_eq!(t["tags"], json!(def.tags));
    assert_eq!(t["scopes"], json!(def.scopes));
    assert_eq!(
        t["toolkit"],
        json!({"slug": "github", "name": tk.name, "logo": tk.logo})
    );
    assert_eq!(
        (&t["no_auth"], &t["version"], &t["available_versions"]),
        (&json!(false), &json!(def.version), &json!([def.version]))
    );
    assert_eq!(t["deprecated"]["displayName"], json!(def.name));
    assert_eq!(t["deprecated"]["toolkit"]["logo"], json!(tk.logo));

    // Slugs are case-insensitive; the version and toolkit-version forms the SDKs send are
    // accepted.
    for path in [
        "/api/v3.1/tools/github_create_issue",
        "/api/v3.1/tools/GITHUB_CREATE_ISSUE?version=latest",
        "/api/v3.1/tools/GITHUB_CREATE_ISSUE?version=1.0.0",
        "/api/v3.1/tools/GITHUB_CREATE_ISSUE?toolkit_versions=latest",
        "/api/v3.1/tools/GITHUB_CREATE_ISSUE?toolkit_versions%5Bgithub%5D=20250101_00",
    ] {
        assert_eq!(get(&s, &key, path).await, t, "{path}");
    }
    let err = get_err(
        &s,
        &key,
        "/api/v3.1/tools/GITHUB_CREATE_ISSUE?version=9.9.9",
        404,
    )
    .await;
    assert_eq!(
        err["message"],
        "tool GITHUB_CREATE_ISSUE has no version `9.9.9`"
    );
}

#[tokio::test]
async fn unknown_tools_and_toolkits_are_404s_naming_them() {
    let (s, key) = start(HttpConfig::default()).await;
    let err = get_err(&s, &key, "/api/v3.1/tools/NOPE_NOTHING", 404).await;
    assert_eq!(
        (&err["slug"], &err["message"]),
        (&json!("not_found"), &json!("tool NOPE_NOTHING not found"))
    );
    let err = get_err(&s, &key, "/api/v3.1/toolkits/nope", 404).await;
    assert_eq!(err["message"], "toolkit nope not found");
    let err = get_err(&s, &key, "/api/v3.1/tools?toolkit_slug=github,nope", 404).await;
    assert_eq!(err["message"], "toolkit nope not found");
    let err = get_err(
        &s,
        &key,
        "/api/v3.1/tools?tool_slugs=GITHUB_CREATE_ISSUE,NOPE_A,NOPE_B",
        404,
    )
    .await;
    assert_eq!(err["message"], "2 tools not found: NOPE_A, NOPE_B");
    assert_eq!(
        err["errors"],
        json!(["tool NOPE_A not found", "tool NOPE_B not found"])
    );
}

#[tokio::test]
async fn bad_query_values_are_400s_naming_the_parameter() {
    let (s, key) = start(HttpConfig::default()).await;
    for (path, param) in [
        ("/api/v3.1/tools?limit=0", "limit"),
        ("/api/v3.1/tools?limit=1001", "limit"),
        ("/api/v3.1/tools?limit=ten", "limit"),
        ("/api/v3.1/tools?limit=2.5", "limit"),
        ("/api/v3.1/tools?cursor=not-a-cursor", "cursor"),
        ("/api/v3.1/tools?cursor=bzo", "cursor"),
        ("/api/v3.1/tools?important=maybe", "important"),
        ("/api/v3.1/toolkits?limit=-1", "limit"),
        ("/api/v3.1/toolkits?cursor=%2F%2F", "cursor"),
        ("/api/v3.1/toolkits?sort_by=popularity", "sort_by"),
        ("/api/v3.1/toolkits?managed_by=someone", "managed_by"),
    ] {
        let err = get_err(&s, &key, path, 400).await;
        let message = err["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("query parameter `{param}`")),
            "{path}: {message}"
        );
        assert!(err["suggested_fix"].is_string(), "{path}: {err}");
    }
    // Python sends numbers as floats.
    let page = get(&s, &key, "/api/v3.1/tools?limit=5.0").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn tool_filters_select_by_toolkit_slug_tag_and_importance() {
    let (s, key) = start(HttpConfig::default()).await;
    let catalog = Catalog::builtin().unwrap();
    let count = |slug: &str| catalog.toolkit(slug).unwrap().tools.len();

    // Several toolkits, comma-separated or repeated, any case.
    for path in [
        "/api/v3.1/tools?toolkit_slug=github,SLACK&limit=1000",
        "/api/v3.1/tools?toolkit_slug=github&toolkit_slug=slack&limit=1000",
    ] {
        let page = get(&s, &key, path).await;
        assert_eq!(
            page["total_items"],
            json!(count("github") + count("slack")),
            "{path}"
        );
        for t in page["items"].as_array().unwrap() {
            let tk = t["toolkit"]["slug"].as_str().unwrap();
            assert!(tk == "github" || tk == "slack", "{path}: {tk}");
        }
    }

    // Tags: any of them, any case.
    let page = get(&s, &key, "/api/v3.1/tools?tags=destructivehint&limit=1000").await;
    let expected: usize = catalog
        .toolkits()
        .iter()
        .flat_map(|tk| tk.tools.iter())
        .filter(|t| t.tags.iter().any(|g| g == "destructiveHint"))
        .count();
    assert!(expected > 0);
    assert_eq!(page["total_items"], json!(expected));
    let page = get(
        &s,
        &key,
        "/api/v3.1/tools?tags=issues,labels&toolkit_slug=github&limit=1000",
    )
    .await;
    for t in page["items"].as_array().unwrap() {
        let tags = t["tags"].as_array().unwrap();
        assert!(
            tags.contains(&json!("issues")) || tags.contains(&json!("labels")),
            "{t}"
        );
    }

    // Explicit slugs win over every other filter and keep their order.
    let page = get(
        &s,
        &key,
        "/api/v3.1/tools?tool_slugs=SLACK_SEND_MESSAGE,github_create_issue&toolkit_slug=gmail",
    )
    .await;
    assert_eq!(slugs(&page), ["SLACK_SEND_MESSAGE", "GITHUB_CREATE_ISSUE"]);

    // No built-in toolkit marks important tools, so every tool of a toolkit is important (the
    // TypeScript SDK asks for `important=true` whenever it lists a toolkit's tools).
    let page = get(
        &s,
        &key,
        "/api/v3.1/tools?toolkit_slug=github&important=true&limit=1000",
    )
    .await;
    assert_eq!(page["total_items"], json!(count("github")));
}

#[tokio::test]
async fn search_ranks_within_the_other_filters_and_pages_stably() {
    let (s, key) = start(HttpConfig::default()).await;
    let page = get(
        &s,
        &key,
        "/api/v3.1/tools?search=create%20an%20issue&toolkit_slug=github&limit=1000",
    )
    .await;
    let found = slugs(&page);
    assert!(
        found.contains(&"GITHUB_CREATE_ISSUE".to_owned()),
        "{found:?}"
    );
    for t in page["items"].as_array().unwrap() {
        assert_eq!(t["toolkit"]["slug"], "github");
        assert_tool_shape(t);
    }
    // `query` is the current name of `search`.
    let same = get(
        &s,
        &key,
        "/api/v3.1/tools?query=create%20an%20issue&toolkit_slug=github&limit=1000",
    )
    .await;
    assert_eq!(same, page);

    // Paging through ranked results gives the same order as one big page.
    let big = get(
        &s,
        &key,
        "/api/v3.1/tools?search=send%20a%20message&limit=1000",
    )
    .await;
    let walked = walk(
        &s,
        &key,
        "/api/v3.1/tools?search=send%20a%20message&limit=7",
    )
    .await;
    assert!(!walked.is_empty());
    assert_eq!(Value::Array(walked), big["items"]);

    // Nothing matches nonsense.
    let none = get(&s, &key, "/api/v3.1/tools?search=zzqxv").await;
    assert_eq!(
        (&none["items"], &none["total_items"]),
        (&json!([]), &json!(0))
    );
    assert_eq!(none["next_cursor"], Value::Null);
}

#[tokio::test]
async fn toolkit_listing_filters_sorts_and_pages() {
    let (s, key) = start(HttpConfig::default()).await;
    let catalog = Catalog::builtin().unwrap();
    let items = walk(&s, &key, "/api/v3.1/toolkits?limit=5").await;
    let got: Vec<&str> = items.iter().map(|t| t["slug"].as_str().unwrap()).collect();
    let expected: Vec<&str> = catalog.toolkits().iter().map(|t| t.slug.as_str()).collect();
    assert_eq!(got, expected);

    let github = items.iter().find(|t| t["slug"] == "github").unwrap();
    let def = catalog.toolkit("github").unwrap();
    assert_eq!(github["name"], json!(def.name));
    assert_eq!(github["is_local_toolkit"], json!(false));
    assert_eq!(github["no_auth"], json!(false));
    assert_eq!(github["auth_schemes"], json!(["OAUTH2", "BEARER_TOKEN"]));
    // No managed OAuth app is configured in this test: only the typed-in bearer token counts.
    assert_eq!(
        github["composio_managed_auth_schemes"],
        json!(["BEARER_TOKEN"])
    );
    let meta = &github["meta"];
    assert_eq!(meta["tools_count"], json!(def.tools.len()));
    assert_eq!(meta["triggers_count"], json!(0));
    assert_eq!(meta["logo"], json!(def.logo));
    assert_eq!(meta["description"], json!(def.description));
    assert_eq!(
        meta["categories"],
        json!([{"id": "developer-tools", "name": "Developer Tools"}])
    );
    assert!(
        meta["created_at"].as_str().unwrap().ends_with('Z'),
        "{meta}"
    );

    // Category by id or by name.
    for path in [
        "/api/v3.1/toolkits?category=developer-tools",
        "/api/v3.1/toolkits?category=Developer%20Tools",
    ] {
        let page = get(&s, &key, path).await;
        let found = slugs(&page);
        assert!(found.contains(&"github".to_owned()), "{path}: {found:?}");
        for tk in page["items"].as_array().unwrap() {
            let ids: Vec<&Value> = tk["meta"]["categories"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| &c["id"])
                .collect();
            assert!(ids.contains(&&json!("developer-tools")), "{path}: {tk}");
        }
    }

    // Search: every word in the slug, name or description.
    let page = get(&s, &key, "/api/v3.1/toolkits?search=calendar").await;
    assert!(slugs(&page).contains(&"googlecalendar".to_owned()));
    let page = get(&s, &key, "/api/v3.1/toolkits?search=calendar%20zzqxv").await;
    assert_eq!(page["total_items"], json!(0));

    // Alphabetical: by display name.
    let page = get(
        &s,
        &key,
        "/api/v3.1/toolkits?sort_by=alphabetically&limit=100",
    )
    .await;
    let names: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_lowercase())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);

    // The server's catalog is Composio's `composio`; no project has toolkits of its own yet.
    let page = get(&s, &key, "/api/v3.1/toolkits?managed_by=composio&limit=100").await;
    assert_eq!(page["total_items"], json!(catalog.toolkits().len()));
    let page = get(&s, &key, "/api/v3.1/toolkits?managed_by=project").await;
    assert_eq!(
        (&page["items"], &page["next_cursor"]),
        (&json!([]), &Value::Null)
    );
}

#[tokio::test]
async fn toolkit_detail_describes_each_auth_scheme_without_values() {
    let (s, key) = start(HttpConfig::default()).await;
    let jira = get(&s, &key, "/api/v3.1/toolkits/JIRA").await;
    assert_eq!(jira["slug"], "jira");
    assert_eq!(jira["enabled"], json!(true));
    assert_eq!(jira["base_url"], "https://{subdomain}.atlassian.net");
    let details = jira["auth_config_details"].as_array().unwrap();
    let modes: Vec<&str> = details
        .iter()
        .map(|d| d["mode"].as_str().unwrap())
        .collect();
    assert_eq!(modes, ["BASIC", "OAUTH2"]);

    let field_names = |group: &Value| -> Vec<(String, bool)> {
        group
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["name"].as_str().unwrap().to_owned(),
                    f["is_secret"].as_bool().unwrap(),
                )
            })
            .collect()
    };
    let basic = &details[0]["fields"];
    assert_eq!(details[0]["name"], "Basic Auth");
    assert_eq!(
        field_names(&basic["connected_account_initiation"]["required"]),
        [
            ("subdomain".to_owned(), false),
            ("username".to_owned(), false),
            ("password".to_owned(), true)
        ]
    );
    assert_eq!(
        basic["auth_config_creation"],
        json!({"required": [], "optional": []})
    );

    let oauth = &details[1]["fields"];
    assert_eq!(
        field_names(&oauth["auth_config_creation"]["required"]),
        [
            ("client_id".to_owned(), false),
            ("client_secret".to_owned(), true)
        ]
    );
    let scopes = &oauth["auth_config_creation"]["optional"][0];
    assert_eq!(scopes["name"], "scopes");
    assert!(
        scopes["default"]
            .as_str()
            .unwrap()
            .contains("read:jira-work")
    );
    for f in oauth["auth_config_creation"]["required"]
        .as_array()
        .unwrap()
    {
        assert_eq!(f["default"], Value::Null, "no value is ever shown: {f}");
        for key in ["displayName", "description", "type"] {
            assert!(f[key].is_string(), "{key}: {f}");
        }
    }
}

#[tokio::test]
async fn categories_list_every_category_a_toolkit_declares() {
    let (s, key) = start(HttpConfig::default()).await;
    let catalog = Catalog::builtin().unwrap();
    let page = get(&s, &key, "/api/v3.1/toolkits/categories").await;
    let ids: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let expected: BTreeSet<&str> = catalog
        .toolkits()
        .iter()
        .flat_map(|tk| tk.categories.iter().map(String::as_str))
        .collect();
    assert_eq!(ids, expected.into_iter().collect::<Vec<_>>());
    assert_eq!(page["total_items"], json!(ids.len()));
    assert_eq!(
        (&page["next_cursor"], &page["total_pages"]),
        (&Value::Null, &json!(1))
    );
    let crm = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "crm");
    assert_eq!(crm.unwrap()["name"], "CRM");
}
