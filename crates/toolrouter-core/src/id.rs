//! Typed, prefixed identifiers (`prj_…`, `key_…`, `ac_…`, `ca_…`): a project id can never be passed where an
//! API-key id is expected, and ids say what they are in logs and on the wire.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A fresh, time-ordered id.
            pub fn generate() -> Self {
                Self(format!("{}{}", $prefix, uuid::Uuid::now_v7().simple()))
            }

            /// Accepts a stored or client-supplied id; `None` when the prefix is wrong.
            pub fn parse(s: &str) -> Option<Self> {
                let rest = s.strip_prefix($prefix)?;
                let ok = !rest.is_empty()
                    && rest.len() <= 64
                    && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                ok.then(|| Self(s.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

prefixed_id!(
    /// A project: the tenant every other record belongs to.
    ProjectId,
    "prj_"
);
prefixed_id!(
    /// An API key record (not the key itself, which is never stored).
    ApiKeyId,
    "key_"
);
prefixed_id!(
    /// An auth config: how a project's users authenticate with one toolkit.
    AuthConfigId,
    "ac_"
);
prefixed_id!(
    /// A connected account: one user's credentials for one toolkit, under one auth config.
    ConnectedAccountId,
    "ca_"
);
prefixed_id!(
    /// A Tool Router session: one user's tool access, auth choices and MCP endpoint.
    SessionId,
    "trs_"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_round_trip_and_prefixes_are_checked() {
        let id = ProjectId::generate();
        assert!(id.as_str().starts_with("prj_"));
        assert_eq!(ProjectId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(ApiKeyId::parse(id.as_str()), None);
        assert_eq!(ProjectId::parse("prj_"), None);
        assert_eq!(ProjectId::parse("prj_a/b"), None);
    }

    #[test]
    fn generated_ids_sort_by_creation() {
        let a = ApiKeyId::generate();
        let b = ApiKeyId::generate();
        assert!(a < b);
    }
}
