//! Table tests of session configuration: every filter rule, every meta-tool rule, every
//! validation rule, update semantics, and the product spec's worked examples.

use std::collections::BTreeMap;

use super::change::{
    ExperimentalChange, HookChange, ListChange, ManageConnectionsChange, MultiAccountChange,
    PreloadTools, TagsChange, ToolsChange, WorkbenchChange,
};
use super::*;

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn enable(list: &[&str]) -> ListChange {
    ListChange {
        enable: Some(strings(list)),
        ..ListChange::default()
    }
}

fn disable(list: &[&str]) -> ListChange {
    ListChange {
        disable: Some(strings(list)),
        ..ListChange::default()
    }
}

fn tools(entries: &[(&str, ToolsChange)]) -> Field<BTreeMap<String, ToolsChange>> {
    Field::Set(
        entries
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    )
}

fn tools_enable(list: &[&str]) -> ToolsChange {
    ToolsChange {
        enable: Some(strings(list)),
        ..ToolsChange::default()
    }
}

fn tools_disable(list: &[&str]) -> ToolsChange {
    ToolsChange {
        disable: Some(strings(list)),
        ..ToolsChange::default()
    }
}

fn tags_change(enable: &[&str], disable: &[&str]) -> TagsChange {
    TagsChange {
        enable: (!enable.is_empty()).then(|| strings(enable)),
        disable: (!disable.is_empty()).then(|| strings(disable)),
        require_approval: None,
    }
}

fn create(change: &ConfigChange) -> SessionConfig {
    match SessionConfig::create("user_123", change) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

fn problems(change: &ConfigChange) -> Vec<String> {
    match SessionConfig::create("user_123", change) {
        Ok(c) => panic!("accepted: {c:?}"),
        Err(e) => e.problems.iter().map(ToString::to_string).collect(),
    }
}

/// A small catalog in catalog order: `(toolkit, slug, tags)`.
const CATALOG: &[(&str, &str, &[&str])] = &[
    ("gmail", "GMAIL_FETCH_EMAILS", &["readOnlyHint"]),
    ("gmail", "GMAIL_SEND_EMAIL", &["openWorldHint"]),
    ("gmail", "GMAIL_CREATE_EMAIL_DRAFT", &["idempotentHint"]),
    ("gmail", "GMAIL_DELETE_MESSAGE", &["destructiveHint"]),
    ("github", "GITHUB_GET_REPO", &["readOnlyHint"]),
    ("github", "GITHUB_CREATE_ISSUE", &[]),
    ("slack", "SLACK_DELETE_MESSAGE", &["destructiveHint"]),
    ("slack", "SLACK_LIST_CHANNELS", &["readOnlyHint"]),
    ("exa", "EXA_SEARCH", &["readOnlyHint"]),
];

fn owned_tags(tags: &[&str]) -> Vec<String> {
    strings(tags)
}

/// Slugs of every allowed tool of [`CATALOG`].
fn allowed(config: &SessionConfig) -> Vec<&'static str> {
    CATALOG
        .iter()
        .filter(|(tk, slug, tags)| {
            let tags = owned_tags(tags);
            config.allows_tool(&ToolInfo {
                toolkit: tk,
                slug,
                tags: &tags,
            })
        })
        .map(|(_, slug, _)| *slug)
        .collect()
}

/// What `GET …/tools` lists: preloaded app tools, then meta tools.
fn listed(config: &SessionConfig) -> Vec<String> {
    let tags: Vec<Vec<String>> = CATALOG.iter().map(|(_, _, t)| owned_tags(t)).collect();
    let infos = CATALOG
        .iter()
        .zip(&tags)
        .map(|((tk, slug, _), tags)| ToolInfo {
            toolkit: tk,
            slug,
            tags,
        });
    let mut out = config.preloaded(infos);
    out.extend(config.meta_tools().iter().map(|m| m.slug().to_owned()));
    out
}

#[test]
fn filter_rules() {
    let cases: Vec<(&str, ConfigChange, Vec<&str>)> = vec![
        (
            "no filter: every tool",
            ConfigChange::default(),
            CATALOG.iter().map(|(_, s, _)| *s).collect(),
        ),
        (
            "toolkit allowlist",
            ConfigChange {
                toolkits: Field::Set(enable(&["github", "EXA"])),
                ..ConfigChange::default()
            },
            vec!["GITHUB_GET_REPO", "GITHUB_CREATE_ISSUE", "EXA_SEARCH"],
        ),
        (
            "toolkit denylist",
            ConfigChange {
                toolkits: Field::Set(disable(&["gmail", "slack"])),
                ..ConfigChange::default()
            },
            vec!["GITHUB_GET_REPO", "GITHUB_CREATE_ISSUE", "EXA_SEARCH"],
        ),
        (
            "empty allowlist denies everything",
            ConfigChange {
                toolkits: Field::Set(enable(&[])),
                ..ConfigChange::default()
            },
            vec![],
        ),
        (
            "per-toolkit enable list admits exactly those tools of that toolkit",
            ConfigChange {
                toolkits: Field::Set(enable(&["gmail", "github"])),
                tools: tools(&[(
                    "gmail",
                    tools_enable(&["gmail_send_email", "GMAIL_FETCH_EMAILS"]),
                )]),
                ..ConfigChange::default()
            },
            vec![
                "GMAIL_FETCH_EMAILS",
                "GMAIL_SEND_EMAIL",
                "GITHUB_GET_REPO",
                "GITHUB_CREATE_ISSUE",
            ],
        ),
        (
            "per-toolkit disable list removes those tools",
            ConfigChange {
                toolkits: Field::Set(enable(&["slack"])),
                tools: tools(&[("slack", tools_disable(&["SLACK_DELETE_MESSAGE"]))]),
                ..ConfigChange::default()
            },
            vec!["SLACK_LIST_CHANNELS"],
        ),
        (
            "global tags: at least one enabled tag",
            ConfigChange {
                tags: Field::Set(tags_change(&["readOnlyHint"], &[])),
                ..ConfigChange::default()
            },
            vec![
                "GMAIL_FETCH_EMAILS",
                "GITHUB_GET_REPO",
                "SLACK_LIST_CHANNELS",
                "EXA_SEARCH",
            ],
        ),
        (
            "global tags: no disabled tag",
            ConfigChange {
                toolkits: Field::Set(enable(&["gmail", "slack"])),
                tags: Field::Set(tags_change(&[], &["destructiveHint"])),
                ..ConfigChange::default()
            },
            vec![
                "GMAIL_FETCH_EMAILS",
                "GMAIL_SEND_EMAIL",
                "GMAIL_CREATE_EMAIL_DRAFT",
                "SLACK_LIST_CHANNELS",
            ],
        ),
        (
            "a toolkit's own tags replace the global ones for it",
            ConfigChange {
                toolkits: Field::Set(enable(&["gmail", "slack"])),
                tools: tools(&[(
                    "slack",
                    ToolsChange {
                        tags: Some(tags_change(&["destructiveHint"], &[])),
                        ..ToolsChange::default()
                    },
                )]),
                tags: Field::Set(tags_change(&["readOnlyHint"], &[])),
                ..ConfigChange::default()
            },
            vec!["GMAIL_FETCH_EMAILS", "SLACK_DELETE_MESSAGE"],
        ),
        (
            "an explicit enable list is not narrowed by global tags",
            ConfigChange {
                tools: tools(&[("gmail", tools_enable(&["GMAIL_SEND_EMAIL"]))]),
                tags: Field::Set(tags_change(&["readOnlyHint"], &[])),
                toolkits: Field::Set(enable(&["gmail"])),
                ..ConfigChange::default()
            },
            vec!["GMAIL_SEND_EMAIL"],
        ),
        (
            "a disable list keeps the global tags for the rest",
            ConfigChange {
                toolkits: Field::Set(enable(&["gmail"])),
                tools: tools(&[("gmail", tools_disable(&["GMAIL_FETCH_EMAILS"]))]),
                tags: Field::Set(tags_change(&[], &["destructiveHint"])),
                ..ConfigChange::default()
            },
            vec!["GMAIL_SEND_EMAIL", "GMAIL_CREATE_EMAIL_DRAFT"],
        ),
        (
            "per-toolkit settings never widen the toolkit filter",
            ConfigChange {
                toolkits: Field::Set(disable(&["github"])),
                tools: tools(&[("github", tools_enable(&["GITHUB_GET_REPO"]))]),
                ..ConfigChange::default()
            },
            vec![
                "GMAIL_FETCH_EMAILS",
                "GMAIL_SEND_EMAIL",
                "GMAIL_CREATE_EMAIL_DRAFT",
                "GMAIL_DELETE_MESSAGE",
                "SLACK_DELETE_MESSAGE",
                "SLACK_LIST_CHANNELS",
                "EXA_SEARCH",
            ],
        ),
    ];
    for (name, change, want) in cases {
        assert_eq!(allowed(&create(&change)), want, "{name}");
    }
}

fn mc(enable: bool) -> Field<ManageConnectionsChange> {
    Field::Set(ManageConnectionsChange {
        enable: Field::Set(enable),
        ..ManageConnectionsChange::default()
    })
}

fn wb(enable: bool) -> Field<WorkbenchChange> {
    Field::Set(WorkbenchChange {
        enable: Field::Set(enable),
        ..WorkbenchChange::default()
    })
}

#[test]
fn meta_tool_rules() {
    use MetaTool::*;
    let default = vec![
        SearchTools,
        GetToolSchemas,
        MultiExecuteTool,
        ManageConnections,
        RemoteWorkbench,
        RemoteBashTool,
    ];
    let cases: Vec<(&str, ConfigChange, Vec<MetaTool>)> = vec![
        ("default", ConfigChange::default(), default.clone()),
        (
            "search off removes search and schemas",
            ConfigChange {
                search: Field::Set(false),
                ..ConfigChange::default()
            },
            vec![
                MultiExecuteTool,
                ManageConnections,
                RemoteWorkbench,
                RemoteBashTool,
            ],
        ),
        (
            "multi-execute off",
            ConfigChange {
                multi_execute: Field::Set(false),
                ..ConfigChange::default()
            },
            vec![
                SearchTools,
                GetToolSchemas,
                ManageConnections,
                RemoteWorkbench,
                RemoteBashTool,
            ],
        ),
        (
            "manage connections off",
            ConfigChange {
                manage_connections: mc(false),
                ..ConfigChange::default()
            },
            vec![
                SearchTools,
                GetToolSchemas,
                MultiExecuteTool,
                RemoteWorkbench,
                RemoteBashTool,
            ],
        ),
        (
            "wait for connections with manage connections",
            ConfigChange {
                manage_connections: Field::Set(ManageConnectionsChange {
                    wait_for_connections: Field::Set(true),
                    ..ManageConnectionsChange::default()
                }),
                ..ConfigChange::default()
            },
            vec![
                SearchTools,
                GetToolSchemas,
                MultiExecuteTool,
                ManageConnections,
                WaitForConnections,
                RemoteWorkbench,
                RemoteBashTool,
            ],
        ),
        (
            "wait for connections needs manage connections",
            ConfigChange {
                manage_connections: Field::Set(ManageConnectionsChange {
                    enable: Field::Set(false),
                    wait_for_connections: Field::Set(true),
                    ..ManageConnectionsChange::default()
                }),
                ..ConfigChange::default()
            },
            vec![
                SearchTools,
                GetToolSchemas,
                MultiExecuteTool,
                RemoteWorkbench,
                RemoteBashTool,
            ],
        ),
        (
            "workbench off removes workbench and bash",
            ConfigChange {
                workbench: wb(false),
                ..ConfigChange::default()
            },
            vec![
                SearchTools,
                GetToolSchemas,
                MultiExecuteTool,
                ManageConnections,
            ],
        ),
        (
            "proxy execute and submit feedback are opt-in",
            ConfigChange {
                proxy_execute: Field::Set(true),
                experimental: Field::Set(ExperimentalChange {
                    submit_feedback: Field::Set(true),
                    ..ExperimentalChange::default()
                }),
                ..ConfigChange::default()
            },
            [default, vec![ProxyExecute, SubmitFeedback]].concat(),
        ),
    ];
    for (name, change, want) in cases {
        assert_eq!(create(&change).meta_tools(), want, "{name}");
    }
    for m in MetaTool::ALL {
        assert_eq!(MetaTool::parse(&m.slug().to_lowercase()), Some(m));
    }
}

/// The worked examples of the product spec ("Configuring sessions"), as the SDKs send them.
#[test]
fn seed_examples_list_the_documented_tools() {
    let default_meta = [
        "COMPOSIO_SEARCH_TOOLS",
        "COMPOSIO_GET_TOOL_SCHEMAS",
        "COMPOSIO_MULTI_EXECUTE_TOOL",
        "COMPOSIO_MANAGE_CONNECTIONS",
        "COMPOSIO_REMOTE_WORKBENCH",
        "COMPOSIO_REMOTE_BASH_TOOL",
    ];
    let direct = |with_meta: bool| {
        let mut c = ConfigChange {
            toolkits: Field::Set(enable(&["gmail"])),
            tools: tools(&[(
                "gmail",
                tools_enable(&["GMAIL_FETCH_EMAILS", "GMAIL_CREATE_EMAIL_DRAFT"]),
            )]),
            ..ConfigChange::default()
        };
        if with_meta {
            c.manage_connections = mc(true);
            c.workbench = wb(true);
        }
        c
    };
    // What the SDKs put on the wire for `session_preset=direct_tools`.
    let direct_on_wire = |with_meta: bool| ConfigChange {
        manage_connections: mc(with_meta),
        workbench: wb(with_meta),
        preload: Field::Set(PreloadTools::Named("all".into())),
        search: Field::Set(false),
        multi_execute: Field::Set(false),
        ..direct(false)
    };
    let preset = |with_meta: bool| {
        let mut c = direct(with_meta);
        c.apply_direct_tools_preset();
        c
    };
    let cases: Vec<(&str, ConfigChange, Vec<&str>)> = vec![
        (
            "default session",
            ConfigChange {
                manage_connections: mc(true),
                ..ConfigChange::default()
            },
            default_meta.to_vec(),
        ),
        (
            "preload a list",
            ConfigChange {
                toolkits: Field::Set(enable(&["gmail"])),
                manage_connections: mc(true),
                preload: Field::Set(PreloadTools::List(strings(&[
                    "GMAIL_FETCH_EMAILS",
                    "GMAIL_CREATE_EMAIL_DRAFT",
                ]))),
                ..ConfigChange::default()
            },
            [
                &["GMAIL_FETCH_EMAILS", "GMAIL_CREATE_EMAIL_DRAFT"][..],
                &default_meta[..],
            ]
            .concat(),
        ),
        (
            "direct tools preset (wire spelling)",
            direct_on_wire(false),
            vec!["GMAIL_FETCH_EMAILS", "GMAIL_CREATE_EMAIL_DRAFT"],
        ),
        (
            "direct tools preset (server-side preset)",
            preset(false),
            vec!["GMAIL_FETCH_EMAILS", "GMAIL_CREATE_EMAIL_DRAFT"],
        ),
        (
            "direct tools preset with manage connections and workbench (wire spelling)",
            direct_on_wire(true),
            vec![
                "GMAIL_FETCH_EMAILS",
                "GMAIL_CREATE_EMAIL_DRAFT",
                "COMPOSIO_MANAGE_CONNECTIONS",
                "COMPOSIO_REMOTE_WORKBENCH",
                "COMPOSIO_REMOTE_BASH_TOOL",
            ],
        ),
        (
            "direct tools preset with manage connections and workbench (server-side preset)",
            preset(true),
            vec![
                "GMAIL_FETCH_EMAILS",
                "GMAIL_CREATE_EMAIL_DRAFT",
                "COMPOSIO_MANAGE_CONNECTIONS",
                "COMPOSIO_REMOTE_WORKBENCH",
                "COMPOSIO_REMOTE_BASH_TOOL",
            ],
        ),
        (
            "workbench disabled",
            ConfigChange {
                workbench: wb(false),
                ..ConfigChange::default()
            },
            default_meta[..4].to_vec(),
        ),
    ];
    for (name, change, want) in cases {
        assert_eq!(listed(&create(&change)), want, "{name}");
    }
}

#[test]
fn preload_all_orders_by_the_allowlists_then_the_catalog() {
    let config = create(&ConfigChange {
        toolkits: Field::Set(enable(&["slack", "gmail"])),
        tools: tools(&[(
            "gmail",
            tools_enable(&["GMAIL_CREATE_EMAIL_DRAFT", "GMAIL_FETCH_EMAILS"]),
        )]),
        preload: Field::Set(PreloadTools::Named("ALL".into())),
        ..ConfigChange::default()
    });
    assert_eq!(config.preload, Preload::All);
    assert_eq!(
        &listed(&config)[..4],
        [
            "SLACK_DELETE_MESSAGE",
            "SLACK_LIST_CHANNELS",
            "GMAIL_CREATE_EMAIL_DRAFT",
            "GMAIL_FETCH_EMAILS"
        ]
    );
    // Without a toolkit allowlist each toolkit's tools stay together, in catalog order.
    let config = create(&ConfigChange {
        tags: Field::Set(tags_change(&["readOnlyHint", "destructiveHint"], &[])),
        tools: tools(&[(
            "slack",
            tools_enable(&["SLACK_LIST_CHANNELS", "SLACK_DELETE_MESSAGE"]),
        )]),
        preload: Field::Set(PreloadTools::Named("all".into())),
        ..ConfigChange::default()
    });
    assert_eq!(
        &listed(&config)[..6],
        [
            "GMAIL_FETCH_EMAILS",
            "GMAIL_DELETE_MESSAGE",
            "GITHUB_GET_REPO",
            "SLACK_LIST_CHANNELS",
            "SLACK_DELETE_MESSAGE",
            "EXA_SEARCH"
        ]
    );
}

#[test]
fn every_validation_rule_names_its_field() {
    let cases: Vec<(&str, ConfigChange, &str)> = vec![
        (
            "enable and disable together",
            ConfigChange {
                toolkits: Field::Set(ListChange {
                    enable: Some(strings(&["gmail"])),
                    disable: Some(strings(&["exa"])),
                    require_approval: None,
                }),
                ..ConfigChange::default()
            },
            "`toolkits`: give either `enable` (an allowlist) or `disable` (a denylist), not both",
        ),
        (
            "empty toolkits object",
            ConfigChange {
                toolkits: Field::Set(ListChange::default()),
                ..ConfigChange::default()
            },
            "`toolkits`: give `enable` (a list of toolkit slugs), `disable`, or `require_approval`; use `null` to allow every toolkit",
        ),
        (
            "two selections for one toolkit",
            ConfigChange {
                tools: tools(&[(
                    "gmail",
                    ToolsChange {
                        enable: Some(strings(&["GMAIL_SEND_EMAIL"])),
                        tags: Some(tags_change(&["readOnlyHint"], &[])),
                        ..ToolsChange::default()
                    },
                )]),
                ..ConfigChange::default()
            },
            "`tools.gmail`: give only one of `enable`, `disable` and `tags`",
        ),
        (
            "unknown tag",
            ConfigChange {
                tags: Field::Set(tags_change(&["readOnly"], &[])),
                ..ConfigChange::default()
            },
            "`tags.enable`: `readOnly` is not a tag; use `readOnlyHint`, `createHint`, `updateHint`, `destructiveHint`, `idempotentHint`, `openWorldHint`",
        ),
        (
            "unknown sandbox tier",
            ConfigChange {
                workbench: Field::Set(WorkbenchChange {
                    sandbox_size: Field::Set("huge".into()),
                    ..WorkbenchChange::default()
                }),
                ..ConfigChange::default()
            },
            "`workbench.sandbox_size`: `huge` is not a sandbox size; use `standard`, `medium`, `large`, `xlarge`",
        ),
        (
            "negative offload threshold",
            ConfigChange {
                workbench: Field::Set(WorkbenchChange {
                    auto_offload_threshold: Field::Set(-1.0),
                    ..WorkbenchChange::default()
                }),
                ..ConfigChange::default()
            },
            "`workbench.auto_offload_threshold`: must be a non-negative number of characters, got -1",
        ),
        (
            "preload all without a positive filter",
            ConfigChange {
                toolkits: Field::Set(disable(&["exa"])),
                preload: Field::Set(PreloadTools::Named("all".into())),
                ..ConfigChange::default()
            },
            "`preload.tools`: \"all\" needs a positive filter to bound it: set `toolkits.enable`, `tools.<toolkit>.enable` or `tags.enable`",
        ),
        (
            "preload a word other than all",
            ConfigChange {
                preload: Field::Set(PreloadTools::Named("everything".into())),
                ..ConfigChange::default()
            },
            "`preload.tools`: must be a list of tool slugs or \"all\", got \"everything\"",
        ),
        (
            "preload with multi-account",
            ConfigChange {
                multi_account: Field::Set(MultiAccountChange {
                    enable: Field::Set(true),
                    ..MultiAccountChange::default()
                }),
                preload: Field::Set(PreloadTools::List(strings(&["GMAIL_SEND_EMAIL"]))),
                ..ConfigChange::default()
            },
            "`preload.tools`: preloading is not supported when `multi_account.enable` is true; remove `preload.tools` or turn multi-account off",
        ),
        (
            "two accounts without multi-account",
            ConfigChange {
                connected_accounts: Field::Set(BTreeMap::from([(
                    "gmail".to_owned(),
                    strings(&["ca_a", "ca_b"]),
                )])),
                ..ConfigChange::default()
            },
            "`connected_accounts.gmail`: lists 2 accounts; only one account per toolkit unless `multi_account.enable` is true",
        ),
        (
            "more accounts than the multi-account maximum",
            ConfigChange {
                multi_account: Field::Set(MultiAccountChange {
                    enable: Field::Set(true),
                    max_accounts_per_toolkit: Field::Set(2),
                    ..MultiAccountChange::default()
                }),
                connected_accounts: Field::Set(BTreeMap::from([(
                    "gmail".to_owned(),
                    strings(&["ca_a", "ca_b", "ca_c"]),
                )])),
                ..ConfigChange::default()
            },
            "`connected_accounts.gmail`: lists 3 accounts; at most 2 accounts per toolkit (`multi_account.max_accounts_per_toolkit`)",
        ),
        (
            "multi-account maximum out of range",
            ConfigChange {
                multi_account: Field::Set(MultiAccountChange {
                    max_accounts_per_toolkit: Field::Set(11),
                    ..MultiAccountChange::default()
                }),
                ..ConfigChange::default()
            },
            "`multi_account.max_accounts_per_toolkit`: must be between 2 and 10, got 11",
        ),
        (
            "bad ids",
            ConfigChange {
                auth_configs: Field::Set(BTreeMap::from([(
                    "github".to_owned(),
                    "github-config".to_owned(),
                )])),
                ..ConfigChange::default()
            },
            "`auth_configs.github`: `github-config` is not an auth config id (`ac_…`)",
        ),
        (
            "proxy execution conflict",
            ConfigChange {
                proxy_execute: Field::Set(false),
                workbench: Field::Set(WorkbenchChange {
                    proxy_execution: Field::Set(true),
                    ..WorkbenchChange::default()
                }),
                ..ConfigChange::default()
            },
            "`workbench.enable_proxy_execution`: cannot be true while `proxy_execute.enable` is false; change one of them",
        ),
        (
            "callback URL",
            ConfigChange {
                manage_connections: Field::Set(ManageConnectionsChange {
                    callback_url: Field::Set("example.com/cb".into()),
                    ..ManageConnectionsChange::default()
                }),
                ..ConfigChange::default()
            },
            "`manage_connections.callback_url`: `example.com/cb` is not an absolute http(s) URL",
        ),
        (
            "elicitation fallback",
            ConfigChange {
                experimental: Field::Set(ExperimentalChange {
                    no_elicitation_support_fallback: Field::Set("ask".into()),
                    ..ExperimentalChange::default()
                }),
                ..ConfigChange::default()
            },
            "`experimental.no_elicitation_support_fallback`: `ask` is not a fallback; use `deny`, `allow`",
        ),
        (
            "hook without a condition",
            ConfigChange {
                hooks: Field::Set(vec![HookChange {
                    point: "before_execute".into(),
                    id: "h1".into(),
                    handler: "condition_check".into(),
                    action: "block".into(),
                    ..HookChange::default()
                }]),
                ..ConfigChange::default()
            },
            "`hooks[0].handler.condition`: is required for a `condition_check` handler",
        ),
    ];
    for (name, change, want) in cases {
        assert_eq!(problems(&change), [want], "{name}");
    }
    // Every problem at once.
    let all = problems(&ConfigChange {
        tags: Field::Set(tags_change(&["nope"], &["never"])),
        workbench: Field::Set(WorkbenchChange {
            sandbox_size: Field::Set("huge".into()),
            ..WorkbenchChange::default()
        }),
        ..ConfigChange::default()
    });
    assert_eq!(all.len(), 3, "{all:?}");
    let err = SessionConfig::create("  ", &ConfigChange::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`user_id`: is required and must not be empty"
    );
}

#[test]
fn slugs_are_normalised_and_ids_parsed() {
    let config = create(&ConfigChange {
        toolkits: Field::Set(enable(&[" GitHub", "gmail", "github"])),
        tools: tools(&[("Gmail", tools_enable(&["gmail_send_email"]))]),
        connected_accounts: Field::Set(BTreeMap::from([
            ("GMAIL".to_owned(), strings(&["ca_work"])),
            ("slack".to_owned(), vec![]),
        ])),
        auth_configs: Field::Set(BTreeMap::from([("github".to_owned(), "ac_gh".to_owned())])),
        ..ConfigChange::default()
    });
    assert_eq!(
        config.toolkits.as_ref().and_then(|t| t.filter.clone()),
        Some(ListFilter::Enabled(strings(&["github", "gmail"])))
    );
    assert_eq!(
        config.tools["gmail"].selection,
        Some(ToolSelection::Enabled(strings(&["GMAIL_SEND_EMAIL"])))
    );
    assert_eq!(
        config.connected_accounts.keys().collect::<Vec<_>>(),
        ["gmail"],
        "an empty list pins nothing"
    );
    assert_eq!(config.auth_configs["github"].as_str(), "ac_gh");
}

#[test]
fn updates_replace_maps_merge_settings_and_reset_on_null() {
    let base = create(&ConfigChange {
        toolkits: Field::Set(enable(&["gmail"])),
        tools: tools(&[
            ("gmail", tools_enable(&["GMAIL_SEND_EMAIL"])),
            ("slack", tools_disable(&["SLACK_DELETE_MESSAGE"])),
        ]),
        manage_connections: Field::Set(ManageConnectionsChange {
            callback_url: Field::Set("https://app.example/cb".into()),
            wait_for_connections: Field::Set(true),
            ..ManageConnectionsChange::default()
        }),
        workbench: Field::Set(WorkbenchChange {
            enable: Field::Set(false),
            auto_offload_threshold: Field::Set(300.0),
            ..WorkbenchChange::default()
        }),
        multi_account: Field::Set(MultiAccountChange {
            enable: Field::Set(true),
            max_accounts_per_toolkit: Field::Set(3),
            ..MultiAccountChange::default()
        }),
        ..ConfigChange::default()
    });

    let updated = base
        .update(&ConfigChange {
            toolkits: Field::Reset,
            tools: tools(&[("github", tools_enable(&["GITHUB_GET_REPO"]))]),
            manage_connections: Field::Set(ManageConnectionsChange {
                callback_url: Field::Reset,
                ..ManageConnectionsChange::default()
            }),
            workbench: Field::Set(WorkbenchChange {
                sandbox_size: Field::Set("Large".into()),
                ..WorkbenchChange::default()
            }),
            multi_account: Field::Set(MultiAccountChange {
                max_accounts_per_toolkit: Field::Reset,
                ..MultiAccountChange::default()
            }),
            ..ConfigChange::default()
        })
        .unwrap();

    assert_eq!(updated.toolkits, None, "null removes the allowlist");
    assert_eq!(
        updated.tools.keys().collect::<Vec<_>>(),
        ["github"],
        "a supplied map replaces the stored one"
    );
    assert_eq!(updated.manage_connections.callback_url, None);
    assert!(
        updated.manage_connections.wait_for_connections,
        "only the named key changed"
    );
    assert!(!updated.workbench.enabled, "only the named key changed");
    assert_eq!(updated.workbench.auto_offload_threshold, 300);
    assert_eq!(updated.workbench.sandbox_size, SandboxSize::Large);
    let multi = updated.multi_account.as_ref().unwrap();
    assert!(multi.enabled);
    assert_eq!(multi.max_accounts_per_toolkit, None);
    assert_eq!(
        updated.multi_account().map(|m| m.max_accounts_per_toolkit),
        Some(crate::selection::MultiAccount::DEFAULT_ACCOUNTS)
    );

    // `null` on a settings object restores all of its defaults.
    let reset = updated
        .update(&ConfigChange {
            workbench: Field::Reset,
            manage_connections: Field::Reset,
            multi_account: Field::Reset,
            ..ConfigChange::default()
        })
        .unwrap();
    assert_eq!(reset.workbench, Workbench::default());
    assert_eq!(reset.manage_connections, ManageConnections::default());
    assert_eq!(reset.multi_account, None);

    // A refused update leaves nothing half-applied (the original is untouched by design).
    let err = base
        .update(&ConfigChange {
            toolkits: Field::Reset,
            preload: Field::Set(PreloadTools::List(strings(&["GMAIL_SEND_EMAIL"]))),
            ..ConfigChange::default()
        })
        .unwrap_err();
    assert_eq!(err.problems[0].field, "preload.tools");
}

#[test]
fn slug_refs_name_every_catalog_reference() {
    let config = create(&ConfigChange {
        toolkits: Field::Set(enable(&["gmail", "nope"])),
        tools: tools(&[("gmail", tools_enable(&["GMAIL_X"]))]),
        preload: Field::Set(PreloadTools::List(strings(&["GITHUB_Y"]))),
        connected_accounts: Field::Set(BTreeMap::from([("slack".to_owned(), strings(&["ca_1"]))])),
        ..ConfigChange::default()
    });
    let refs: Vec<(String, String, SlugKind)> = config
        .slug_refs()
        .into_iter()
        .map(|r| (r.field, r.slug, r.kind))
        .collect();
    let toolkit = |f: &str, s: &str| (f.to_owned(), s.to_owned(), SlugKind::Toolkit);
    assert_eq!(
        refs,
        [
            toolkit("toolkits.enable", "gmail"),
            toolkit("toolkits.enable", "nope"),
            toolkit("tools", "gmail"),
            (
                "tools.gmail.enable".to_owned(),
                "GMAIL_X".to_owned(),
                SlugKind::Tool {
                    toolkit: Some("gmail".into())
                }
            ),
            toolkit("connected_accounts", "slack"),
            (
                "preload.tools".to_owned(),
                "GITHUB_Y".to_owned(),
                SlugKind::Tool { toolkit: None }
            ),
        ]
    );
}

#[test]
fn custom_tool_slugs() {
    assert_eq!(local_tool_slug(None, "grep").as_deref(), Some("LOCAL_GREP"));
    assert_eq!(
        local_tool_slug(Some("gmail"), "GET_IMPORTANT_EMAILS").as_deref(),
        Some("LOCAL_GMAIL_GET_IMPORTANT_EMAILS")
    );
    assert_eq!(
        local_tool_slug(None, &"X".repeat(54)).map(|s| s.len()),
        Some(60)
    );
    assert_eq!(local_tool_slug(None, &"X".repeat(55)), None);
    assert!(check_custom_slug("SEARCH_CODE").is_ok());
    for bad in ["", "a b", "local_grep", "Composio_x"] {
        assert!(check_custom_slug(bad).is_err(), "{bad}");
    }
}

#[test]
fn hooks_and_experimental_settings_are_parsed() {
    let config = create(&ConfigChange {
        hooks: Field::Set(vec![HookChange {
            point: "before_execute".into(),
            id: "h1".into(),
            name: None,
            toolkits: Some(strings(&["Gmail"])),
            handler: "condition_check".into(),
            condition: Some("Sending email outside example.org".into()),
            action: "block".into(),
        }]),
        experimental: Field::Set(ExperimentalChange {
            user_timezone: Field::Set("America/New_York".into()),
            no_elicitation_support_fallback: Field::Set("deny".into()),
            ..ExperimentalChange::default()
        }),
        ..ConfigChange::default()
    });
    assert_eq!(
        config.hooks,
        [Hook {
            id: "h1".into(),
            name: None,
            point: HookPoint::BeforeExecute,
            toolkits: Some(strings(&["gmail"])),
            check: HookCheck::Condition("Sending email outside example.org".into()),
        }]
    );
    assert_eq!(
        config.experimental.user_timezone.as_deref(),
        Some("America/New_York")
    );
    assert_eq!(
        config.experimental.no_elicitation_support_fallback,
        Some(ElicitationFallback::Deny)
    );
}
