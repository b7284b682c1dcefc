//! The connection values a request is authenticated with, split into plain and secret ones.
//!
//! The split exists so that the type system, not discipline, keeps secrets out of places that
//! are visible: only plain values may fill `{field}` placeholders of a base URL (which ends up in
//! logs and error messages), and secret values live in [`SecretString`], whose `Debug` redacts.

use std::collections::BTreeMap;
use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use toolrouter_catalog::model::{AuthKind, AuthScheme};

/// One connection field's value.
#[derive(Clone)]
pub enum CredentialValue {
    /// A value that may appear in URLs and messages (a subdomain, a region, a username).
    Plain(String),
    /// A value that must never be shown (a key, a token, a password).
    Secret(SecretString),
}

impl fmt::Debug for CredentialValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialValue::Plain(v) => f.debug_tuple("Plain").field(v).finish(),
            CredentialValue::Secret(_) => f.write_str("Secret([REDACTED])"),
        }
    }
}

impl CredentialValue {
    /// The value itself, for building the wire request only.
    pub(crate) fn expose(&self) -> &str {
        match self {
            CredentialValue::Plain(v) => v,
            CredentialValue::Secret(v) => v.expose_secret(),
        }
    }
}

/// The values of a connection's fields, by field name (`api_key`, `subdomain`, `access_token`).
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    values: BTreeMap<String, CredentialValue>,
}

impl Credentials {
    pub fn new() -> Credentials {
        Credentials::default()
    }

    /// Classifies raw field values with the scheme's field declarations. Anything the scheme
    /// does not declare as a non-secret field is treated as secret, so that an OAuth2
    /// `access_token` or a field added later can never leak by default.
    pub fn for_scheme(
        scheme: &AuthScheme,
        values: impl IntoIterator<Item = (String, String)>,
    ) -> Credentials {
        let mut out = Credentials::new();
        for (name, value) in values {
            let plain = scheme.fields.iter().any(|f| f.name == name && !f.secret)
                // A BASIC username is routinely shown to the user it belongs to.
                || (scheme.kind == AuthKind::Basic && name == "username");
            out = if plain {
                out.with_plain(name, value)
            } else {
                out.with_secret(name, SecretString::from(value))
            };
        }
        out
    }

    pub fn with_plain(mut self, name: impl Into<String>, value: impl Into<String>) -> Credentials {
        self.values
            .insert(name.into(), CredentialValue::Plain(value.into()));
        self
    }

    pub fn with_secret(mut self, name: impl Into<String>, value: SecretString) -> Credentials {
        self.values
            .insert(name.into(), CredentialValue::Secret(value));
        self
    }

    pub fn get(&self, name: &str) -> Option<&CredentialValue> {
        self.values.get(name)
    }

    /// A non-secret value, for URL placeholders.
    pub fn plain(&self, name: &str) -> Option<&str> {
        match self.values.get(name)? {
            CredentialValue::Plain(v) => Some(v),
            CredentialValue::Secret(_) => None,
        }
    }

    /// Every secret value, so that error text coming back from a provider can be scrubbed of
    /// them (some providers echo the key they rejected).
    pub(crate) fn secrets(&self) -> impl Iterator<Item = &SecretString> {
        self.values.values().filter_map(|v| match v {
            CredentialValue::Secret(s) => Some(s),
            CredentialValue::Plain(_) => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_decides_what_is_secret_and_debug_never_shows_secrets() {
        let scheme: AuthScheme = serde_json::from_value(serde_json::json!({
            "type": "API_KEY",
            "fields": [{"name": "subdomain", "display_name": "Subdomain"},
                       {"name": "api_key", "display_name": "Key", "secret": true}],
            "inject": [{"in": "header", "name": "X-Key", "value": "{api_key}"}]
        }))
        .expect("scheme parses");
        let creds = Credentials::for_scheme(
            &scheme,
            [
                ("subdomain".to_owned(), "acme".to_owned()),
                ("api_key".to_owned(), "sk_live_hunter2".to_owned()),
                ("undeclared".to_owned(), "also-hidden".to_owned()),
            ],
        );
        assert_eq!(creds.plain("subdomain"), Some("acme"));
        assert_eq!(creds.plain("api_key"), None);
        assert_eq!(
            creds.get("api_key").map(CredentialValue::expose),
            Some("sk_live_hunter2")
        );
        let debug = format!("{creds:?}");
        assert!(
            !debug.contains("hunter2") && !debug.contains("also-hidden"),
            "{debug}"
        );
        assert!(debug.contains("acme"), "{debug}");
        assert_eq!(creds.secrets().count(), 2);
    }
}
