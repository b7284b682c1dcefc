//! The one table of public error codes.
//!
//! Each row is a stable snake_case slug, a numeric code, the HTTP status it maps to and its
//! JSON-RPC code for MCP. Adding a code is a one-line, reviewable change here; transports only
//! look rows up. The wire envelope built from a row is CONTRACT.md §1.5:
//! `{"error": {"message", "code", "slug", "status", "request_id", "suggested_fix", "errors"}}`.

macro_rules! error_codes {
    ($($variant:ident => ($slug:literal, $code:literal, $status:literal, $jsonrpc:literal)),+ $(,)?) => {
        /// Every error toolrouter can answer with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($variant),+
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

            /// Stable machine-readable name, e.g. `session_not_found`.
            pub fn slug(self) -> &'static str {
                match self { $(ErrorCode::$variant => $slug),+ }
            }

            /// Stable numeric code (the envelope's `code`).
            pub fn code(self) -> u32 {
                match self { $(ErrorCode::$variant => $code),+ }
            }

            /// HTTP status.
            pub fn status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status),+ }
            }

            /// JSON-RPC error code used by the MCP transport.
            pub fn jsonrpc(self) -> i32 {
                match self { $(ErrorCode::$variant => $jsonrpc),+ }
            }
        }
    };
}

error_codes! {
    // 400: the request itself is wrong.
    BadRequest => ("bad_request", 10400, 400, -32602),
    InvalidJson => ("invalid_json", 10401, 400, -32700),
    ValidationFailed => ("validation_failed", 10402, 400, -32602),
    UnknownSlugs => ("unknown_slugs", 10403, 400, -32602),
    // 400, authentication of toolkits: what the caller must set up before a tool can run.
    NoManagedAuth => ("no_managed_auth", 10460, 400, -32602),
    CallbackUrlNotAllowed => ("callback_url_not_allowed", 10461, 400, -32602),
    ConnectedAccountRequired => ("connected_account_required", 10462, 400, -32602),
    ConnectedAccountNotActive => ("connected_account_not_active", 10463, 400, -32602),
    AccountSelectionRequired => ("account_selection_required", 10464, 400, -32602),
    AccountLimitReached => ("account_limit_reached", 10465, 400, -32602),
    AuthConfigDisabled => ("auth_config_disabled", 10466, 400, -32602),
    // 401/403: credentials.
    MissingApiKey => ("missing_api_key", 10410, 401, -32001),
    InvalidApiKey => ("invalid_api_key", 10411, 401, -32001),
    Forbidden => ("forbidden", 10430, 403, -32003),
    // 404.
    RouteNotFound => ("route_not_found", 10440, 404, -32601),
    NotFound => ("not_found", 10441, 404, -32002),
    SessionNotFound => ("session_not_found", 10442, 404, -32002),
    // 405, 408, 409, 413, 415, 422, 429.
    MethodNotAllowed => ("method_not_allowed", 10450, 405, -32601),
    RequestTimeout => ("request_timeout", 10480, 408, -32000),
    Conflict => ("conflict", 10490, 409, -32000),
    // A session update named a `config_version` that is no longer the stored one.
    ConfigVersionConflict => ("config_version_conflict", 10491, 409, -32000),
    PayloadTooLarge => ("payload_too_large", 10413, 413, -32600),
    UnsupportedMediaType => ("unsupported_media_type", 10415, 415, -32600),
    Unprocessable => ("unprocessable", 10422, 422, -32602),
    RateLimited => ("rate_limited", 10429, 429, -32000),
    // 5xx: our side.
    Internal => ("internal_error", 10500, 500, -32603),
    StorageUnavailable => ("storage_unavailable", 10503, 503, -32603),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn slugs_and_codes_are_unique_and_statuses_are_errors() {
        let mut slugs = HashSet::new();
        let mut codes = HashSet::new();
        for &c in ErrorCode::ALL {
            assert!(slugs.insert(c.slug()), "duplicate slug {}", c.slug());
            assert!(codes.insert(c.code()), "duplicate code {}", c.code());
            assert!(
                (400..600).contains(&c.status()),
                "{} is not an error status",
                c.slug()
            );
            assert!(
                c.slug()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{} is not snake_case",
                c.slug()
            );
        }
    }
}
