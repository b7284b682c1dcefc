//! The error envelope of every non-2xx response (CONTRACT.md §1.5 / A.19):
//! `{"error": {"message", "code", "slug", "status", "request_id"?, "suggested_fix"?, "errors"?}}`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What was wrong, for a human.
    pub message: String,
    /// Stable numeric code.
    pub code: u32,
    /// Stable snake_case code, e.g. `invalid_api_key`.
    pub slug: String,
    /// The HTTP status, repeated.
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// How to fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggested_fix: Option<String>,
    /// Every individual problem, when there are several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<String>>,
}
