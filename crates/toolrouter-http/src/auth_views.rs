//! Auth configs, connected accounts and tool results turned into wire objects, and wire
//! requests into app requests: the one place the shapes of CONTRACT.md §4.14/A.17 are built,
//! so every route (and later the session routes) shows an account the same way.

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde_json::{Map, Value};
use toolrouter_api::auth::{
    AccountAuthConfig, AccountState, AuthConfigView, ConnectedAccountView, StringOrList,
    ToolAccessConfig, ToolExecuted, ToolkitSlug, ToolkitSlugLogo,
};
use toolrouter_api::catalog::AuthFieldInfo;
use toolrouter_app::AppError;
use toolrouter_app::auth::accounts::AccountInfo;
use toolrouter_app::auth::configs::AuthConfigInfo;
use toolrouter_app::execute::ToolResult;
use toolrouter_core::{AccountStatus, AuthConfigOrigin, ErrorCode};

/// An auth config as listings and `GET` show it.
pub(crate) fn auth_config(info: &AuthConfigInfo) -> AuthConfigView {
    let c = &info.config;
    AuthConfigView {
        id: c.id.to_string(),
        uuid: c.id.to_string(),
        name: c.name.clone(),
        no_of_connections: info.connections,
        status: if c.disabled { "DISABLED" } else { "ENABLED" }.to_owned(),
        kind: if c.managed { "default" } else { "custom" }.to_owned(),
        toolkit: ToolkitSlugLogo {
            slug: c.toolkit.clone(),
            logo: info.toolkit_logo.clone(),
        },
        auth_scheme: c.auth_scheme.clone(),
        is_composio_managed: c.managed,
        credentials: info
            .credentials
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .chain(
                (!c.scopes.is_empty())
                    .then(|| ("scopes".to_owned(), Value::from(c.scopes.clone()))),
            )
            .collect(),
        expected_input_fields: info
            .expected_input_fields
            .iter()
            .map(|f| AuthFieldInfo {
                name: f.name.clone(),
                display_name: f.display_name.clone(),
                description: f.description.clone(),
                kind: "string".to_owned(),
                required: f.required,
                default: None,
                is_secret: f.secret,
            })
            .collect(),
        restrict_to_following_tools: Vec::new(),
        tool_access_config: ToolAccessConfig::default(),
        is_enabled_for_tool_router: !c.disabled,
        created_by: match c.origin {
            AuthConfigOrigin::Api => "api",
            AuthConfigOrigin::ToolRouter => "tool_router",
        }
        .to_owned(),
        created_at: c.created_at.to_rfc3339(),
        last_updated_at: c.updated_at.to_rfc3339(),
    }
}

/// A connected account (A.17), credentials masked.
pub(crate) fn account(info: &AccountInfo) -> ConnectedAccountView {
    let a = &info.account;
    let status = info.status.as_str().to_owned();
    let mut val: Map<String, Value> = info
        .values
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    val.insert("status".to_owned(), Value::String(status.clone()));
    if info.status == AccountStatus::Failed
        && let Some(reason) = &a.status_reason
    {
        val.insert("error".to_owned(), Value::String(reason.clone()));
    }
    if let Some(exp) = a.expires_at {
        val.insert("expires_at".to_owned(), Value::String(exp.to_rfc3339()));
    }
    ConnectedAccountView {
        id: a.id.to_string(),
        user_id: a.user_id.clone(),
        status,
        status_reason: a.status_reason.clone(),
        toolkit: ToolkitSlug {
            slug: a.toolkit.clone(),
        },
        auth_config: AccountAuthConfig {
            id: info.auth_config.id.to_string(),
            auth_scheme: info.auth_config.auth_scheme.clone(),
            is_composio_managed: info.auth_config.managed,
            is_disabled: info.auth_config.disabled,
        },
        auth_scheme: info.auth_config.auth_scheme.clone(),
        alias: a.alias.clone(),
        state: AccountState {
            auth_scheme: info.auth_config.auth_scheme.clone(),
            val: val.clone(),
        },
        data: val,
        params: a
            .params
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
        is_disabled: a.disabled,
        test_request_endpoint: None,
        created_at: a.created_at.to_rfc3339(),
        updated_at: a.updated_at.to_rfc3339(),
    }
}

/// A direct execution's result.
pub(crate) fn executed(r: ToolResult) -> ToolExecuted {
    ToolExecuted {
        data: r.data,
        error: r.error,
        successful: r.successful,
        log_id: r.log_id,
        session_info: None,
    }
}

fn bad_credential(name: &str) -> AppError {
    AppError::new(
        ErrorCode::ValidationFailed,
        format!("`credentials.{name}` must be a string"),
    )
}

/// Auth-config settings by name.
pub(crate) type Settings = BTreeMap<String, SecretString>;

/// Splits wire `credentials` into settings (held as secrets until the app decides which are)
/// and scopes (`scopes` inside `credentials`, or the top-level `scopes`, which wins).
pub(crate) fn credentials(
    given: Option<Map<String, Value>>,
    top_scopes: Option<StringOrList>,
) -> Result<(Settings, Option<Vec<String>>), AppError> {
    let mut settings = BTreeMap::new();
    let mut scopes = top_scopes.map(StringOrList::into_vec);
    for (name, value) in given.unwrap_or_default() {
        match name.as_str() {
            "scopes" | "user_scopes" => {
                let list: StringOrList = serde_json::from_value(value).map_err(|_| {
                    AppError::new(
                        ErrorCode::ValidationFailed,
                        format!("`credentials.{name}` must be a string or a list of strings"),
                    )
                })?;
                if name == "scopes" && scopes.is_none() {
                    scopes = Some(list.into_vec());
                }
            }
            _ => {
                let text = match value {
                    Value::String(s) => s,
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    Value::Null => continue,
                    _ => return Err(bad_credential(&name)),
                };
                settings.insert(name, SecretString::from(text));
            }
        }
    }
    Ok((settings, scopes))
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;
    use serde_json::json;

    use super::*;

    #[test]
    fn credentials_split_scopes_from_settings() {
        let given = json!({"client_id": "cid", "client_secret": "s3", "scopes": "repo,user", "port": 8080, "none": null});
        let (settings, scopes) =
            credentials(given.as_object().cloned(), None).expect("valid credentials");
        assert_eq!(scopes, Some(vec!["repo".to_owned(), "user".to_owned()]));
        let names: Vec<&str> = settings.keys().map(String::as_str).collect();
        assert_eq!(names, ["client_id", "client_secret", "port"]);
        assert_eq!(settings["port"].expose_secret(), "8080");
        let (_, scopes) = credentials(
            given.as_object().cloned(),
            Some(StringOrList::Many(vec!["a".into()])),
        )
        .unwrap();
        assert_eq!(scopes, Some(vec!["a".to_owned()]));
        let err =
            credentials(json!({"client_id": {"x": 1}}).as_object().cloned(), None).unwrap_err();
        assert_eq!(err.message, "`credentials.client_id` must be a string");
    }
}
