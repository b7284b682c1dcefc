//! Catalog and page types turned into wire objects: the one place a tool definition becomes the
//! contract's `Tool` (§5.1/A.9) and a toolkit its listing or detail, so every route that shows
//! tools (the catalog now, sessions later) shows them the same way.

use toolrouter_api::catalog::{
    AuthConfigDetail, AuthConfigFields, AuthFieldInfo, Category, FieldGroup, Paginated, Tool,
    ToolDeprecated, ToolDeprecatedToolkit, ToolToolkit, ToolkitDetail, ToolkitItem, ToolkitMeta,
};
use toolrouter_app::page::Page;
use toolrouter_app::{App, CatalogTool};
use toolrouter_catalog::ToolkitDef;
use toolrouter_catalog::model::{AuthField, AuthKind, AuthScheme};
use toolrouter_core::Timestamp;

/// A page of domain items as the wire's paginated list.
pub(crate) fn page<T, U>(page: Page<T>, view: impl Fn(&T) -> U) -> Paginated<U> {
    Paginated {
        items: page.items.iter().map(view).collect(),
        next_cursor: page.next_cursor,
        total_pages: page.total_pages as u64,
        current_page: page.current_page as u64,
        total_items: page.total_items as u64,
    }
}

/// Whether a toolkit's tools run without any credential.
pub(crate) fn no_auth(tk: &ToolkitDef) -> bool {
    tk.auth_schemes.iter().all(|s| s.kind == AuthKind::NoAuth)
}

fn auth_schemes(tk: &ToolkitDef) -> Vec<String> {
    if tk.auth_schemes.is_empty() {
        return vec![AuthKind::NoAuth.as_str().to_owned()];
    }
    tk.auth_schemes
        .iter()
        .map(|s| s.kind.as_str().to_owned())
        .collect()
}

/// The schemes a project can use without an auth config of its own (the operator's managed
/// OAuth apps, and schemes whose credentials the user types in): one rule, `App::managed_schemes`,
/// for the catalog listing and the session toolkit list alike.
pub(crate) fn managed_auth_schemes(app: &App, tk: &ToolkitDef) -> Vec<String> {
    app.managed_schemes(tk)
        .iter()
        .map(|k| k.as_str().to_owned())
        .collect()
}

/// A definition has one version; it is also the only one available.
fn versions(version: &str) -> Vec<String> {
    vec![version.to_owned()]
}

/// The wire `Tool` of a catalog tool.
pub(crate) fn tool(entry: &CatalogTool) -> Tool {
    let tk = entry.toolkit();
    let t = entry.tool();
    Tool {
        slug: t.slug.clone(),
        name: t.name.clone(),
        description: t.description.clone(),
        human_description: None,
        toolkit: ToolToolkit {
            slug: tk.slug.clone(),
            name: tk.name.clone(),
            logo: tk.logo.clone(),
        },
        input_parameters: t.input.value().clone(),
        output_parameters: t.output.value().clone(),
        no_auth: no_auth(tk),
        available_versions: versions(&t.version),
        version: t.version.clone(),
        scopes: t.scopes.clone(),
        tags: t.tags.clone(),
        is_deprecated: t.deprecated,
        deprecated: ToolDeprecated {
            display_name: t.name.clone(),
            version: t.version.clone(),
            available_versions: versions(&t.version),
            is_deprecated: t.deprecated,
            toolkit: ToolDeprecatedToolkit {
                logo: tk.logo.clone(),
            },
        },
    }
}

pub(crate) fn category(c: &toolrouter_app::catalog::Category) -> Category {
    Category {
        id: c.id.clone(),
        name: c.name.clone(),
    }
}

fn meta(tk: &ToolkitDef, loaded_at: Timestamp) -> ToolkitMeta {
    let loaded = loaded_at.to_rfc3339();
    ToolkitMeta {
        logo: tk.logo.clone(),
        description: tk.description.clone(),
        categories: tk
            .categories
            .iter()
            .map(|id| category(&toolrouter_app::catalog::Category::from_id(id)))
            .collect(),
        tools_count: tk.tools.len() as u64,
        triggers_count: 0,
        available_versions: versions(&tk.version),
        created_at: loaded.clone(),
        updated_at: loaded,
        app_url: None,
    }
}

/// One item of the toolkit listing.
pub(crate) fn toolkit_item(app: &App, tk: &ToolkitDef, loaded_at: Timestamp) -> ToolkitItem {
    ToolkitItem {
        slug: tk.slug.clone(),
        name: tk.name.clone(),
        meta: meta(tk, loaded_at),
        is_local_toolkit: false,
        auth_schemes: auth_schemes(tk),
        composio_managed_auth_schemes: managed_auth_schemes(app, tk),
        no_auth: no_auth(tk),
    }
}

/// The toolkit detail, with each auth scheme's fields described (never valued).
pub(crate) fn toolkit_detail(app: &App, tk: &ToolkitDef, loaded_at: Timestamp) -> ToolkitDetail {
    ToolkitDetail {
        slug: tk.slug.clone(),
        name: tk.name.clone(),
        enabled: true,
        is_local_toolkit: false,
        auth_schemes: auth_schemes(tk),
        composio_managed_auth_schemes: managed_auth_schemes(app, tk),
        no_auth: no_auth(tk),
        base_url: tk.base_url.clone(),
        meta: meta(tk, loaded_at),
        auth_config_details: tk.auth_schemes.iter().map(auth_config_detail).collect(),
    }
}

fn scheme_name(kind: AuthKind) -> &'static str {
    match kind {
        AuthKind::Oauth2 => "OAuth 2.0",
        AuthKind::ApiKey => "API Key",
        AuthKind::BearerToken => "Bearer Token",
        AuthKind::Basic => "Basic Auth",
        AuthKind::NoAuth => "No Auth",
    }
}

fn field(
    name: &str,
    display_name: &str,
    description: &str,
    required: bool,
    secret: bool,
) -> AuthFieldInfo {
    AuthFieldInfo {
        name: name.to_owned(),
        display_name: display_name.to_owned(),
        description: description.to_owned(),
        kind: "string".to_owned(),
        required,
        default: None,
        is_secret: secret,
    }
}

fn group(fields: Vec<AuthFieldInfo>) -> FieldGroup {
    let (required, optional) = fields.into_iter().partition(|f| f.required);
    FieldGroup { required, optional }
}

fn auth_config_detail(scheme: &AuthScheme) -> AuthConfigDetail {
    // An OAuth2 auth config is the project's OAuth app; other schemes need nothing until a user
    // connects.
    let creation = match (&scheme.kind, &scheme.oauth2) {
        (AuthKind::Oauth2, Some(oauth)) => {
            let mut scopes = field(
                "scopes",
                "Scopes",
                "OAuth scopes to request, separated as the provider expects.",
                false,
                false,
            );
            scopes.default = Some(oauth.default_scopes.join(&oauth.scope_separator));
            vec![
                field(
                    "client_id",
                    "Client ID",
                    "Client ID of your OAuth app at the provider.",
                    true,
                    false,
                ),
                field(
                    "client_secret",
                    "Client secret",
                    "Client secret of your OAuth app at the provider.",
                    true,
                    true,
                ),
                scopes,
            ]
        }
        _ => Vec::new(),
    };
    let initiation = scheme
        .fields
        .iter()
        .map(|f: &AuthField| {
            field(
                &f.name,
                &f.display_name,
                &f.description,
                f.required,
                f.secret,
            )
        })
        .collect();
    AuthConfigDetail {
        mode: scheme.kind.as_str().to_owned(),
        name: scheme_name(scheme.kind).to_owned(),
        fields: AuthConfigFields {
            auth_config_creation: group(creation),
            connected_account_initiation: group(initiation),
        },
    }
}
