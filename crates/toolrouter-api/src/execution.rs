//! Wire type of the execution log, `GET /api/v3.1/tool_router/session/{sid}/executions` (our
//! extension; Composio exposes its logs elsewhere): one item per tool run, meta tool call or
//! proxy call of the session, newest first, in the usual paginated envelope.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One logged execution. `arguments` has secret values replaced by `"[redacted]"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionLogItem {
    /// The `log_id` the execution's answer carried.
    pub log_id: String,
    pub session_id: Option<String>,
    pub user_id: Option<String>,
    pub tool_slug: String,
    pub connected_account_id: Option<String>,
    pub successful: bool,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub arguments: Value,
    /// RFC 3339.
    pub created_at: String,
}
