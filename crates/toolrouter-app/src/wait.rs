//! COMPOSIO_WAIT_FOR_CONNECTIONS (opt-in with `manage_connections.enable_wait_for_connections`):
//! after the agent showed the user connect links, it waits until each named toolkit has an
//! account the session would use, and answers each toolkit's state.
//!
//! Bounded: `timeout_seconds` defaults to [`WAIT_DEFAULT`] and is clamped to [`WAIT_MAX`], which
//! stays below the HTTP layer's default 60-second request timeout so the answer always arrives
//! (an agent that needs longer calls again). Connection state is checked every
//! [`WAIT_POLL`] — the same 1-second cadence as the SDKs' `wait_for_connection` — with the
//! session's own account selection, so "connected" means "the next call of this session will
//! run", never another user's account.

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use toolrouter_core::session::{MetaTool, SessionConfig};

use crate::auth::accounts::Resolved;
use crate::execute::ToolResult;
use crate::execution_log::log_id;
use crate::session_exec::account_choice;
use crate::{App, Caller};

/// Wait when the call gives no `timeout_seconds`.
pub const WAIT_DEFAULT: Duration = Duration::from_secs(30);
/// Longest wait of one call.
pub const WAIT_MAX: Duration = Duration::from_secs(55);
/// How often connection state is checked.
pub const WAIT_POLL: Duration = Duration::from_secs(1);

/// Most toolkits one call waits for.
const WAIT_MAX_TOOLKITS: usize = 20;

fn failed(message: String) -> ToolResult {
    ToolResult {
        data: json!({}),
        error: Some(message),
        successful: false,
        log_id: log_id(),
        account: None,
    }
}

/// The wait `arguments` ask for, clamped to `[1 s, WAIT_MAX]`.
fn requested_wait(arguments: &Value) -> Result<Duration, String> {
    match arguments.get("timeout_seconds") {
        None | Some(Value::Null) => Ok(WAIT_DEFAULT),
        Some(v) => match v.as_f64() {
            Some(s) if s.is_finite() && s > 0.0 => Ok(Duration::from_secs_f64(
                s.min(WAIT_MAX.as_secs_f64()).max(1.0),
            )),
            _ => Err("`timeout_seconds`: must be a positive number of seconds.".to_owned()),
        },
    }
}

impl App {
    /// COMPOSIO_WAIT_FOR_CONNECTIONS. See the module documentation.
    pub(crate) async fn meta_wait_for_connections(
        &self,
        caller: &Caller,
        session_id: &str,
        config: &SessionConfig,
        arguments: &Value,
    ) -> ToolResult {
        let Some(list) = arguments.get("toolkits").and_then(Value::as_array) else {
            return failed("`toolkits`: required, an array of toolkit slugs.".to_owned());
        };
        if list.is_empty() || list.len() > WAIT_MAX_TOOLKITS {
            return failed(format!(
                "`toolkits`: give 1 to {WAIT_MAX_TOOLKITS} toolkit slugs, not {}.",
                list.len()
            ));
        }
        let wait = match requested_wait(arguments) {
            Ok(w) => w,
            Err(e) => return failed(e),
        };
        let mut slugs: Vec<String> = Vec::new();
        for (i, v) in list.iter().enumerate() {
            match v.as_str().map(|s| s.trim().to_ascii_lowercase()) {
                Some(s) if !s.is_empty() => {
                    if !slugs.contains(&s) {
                        slugs.push(s);
                    }
                }
                _ => return failed(format!("`toolkits[{i}]`: must be a toolkit slug.")),
            }
        }
        let started = Instant::now();
        let deadline = started + wait;
        loop {
            let (results, pending) = self.connection_states(caller, config, &slugs).await;
            let now = Instant::now();
            if pending == 0 || now >= deadline {
                let all = pending == 0 && results.values().all(|r| r["status"] == "active");
                let waited = now.duration_since(started).as_secs();
                let message = if all {
                    "Every toolkit is connected; its tools can run now.".to_owned()
                } else {
                    format!(
                        "Not every toolkit is connected after {waited} s. Ask the user to finish \
                         connecting (the links from {}), then call this tool again.",
                        MetaTool::ManageConnections.slug()
                    )
                };
                return ToolResult {
                    successful: true,
                    error: None,
                    data: json!({
                        "results": results,
                        "all_connected": all,
                        "waited_seconds": waited,
                        "message": message,
                        "session": {"id": session_id},
                    }),
                    log_id: log_id(),
                    account: None,
                };
            }
            tokio::time::sleep(WAIT_POLL.min(deadline - now)).await;
        }
    }

    /// Each toolkit's state for the session's user, and how many may still change (not yet
    /// connected, but connectable).
    async fn connection_states(
        &self,
        caller: &Caller,
        config: &SessionConfig,
        slugs: &[String],
    ) -> (Map<String, Value>, usize) {
        let mut results = Map::new();
        let mut pending = 0;
        for slug in slugs {
            let entry = match self.catalog().toolkit(slug) {
                Ok(tk) if config.allows_toolkit(&tk.slug) => {
                    let choice = account_choice(config, &tk.slug, None);
                    match self
                        .account_resolve(&caller.project_id, &config.user_id, &tk, &choice)
                        .await
                    {
                        Ok(Resolved::NoAuth) => {
                            json!({"status": "active", "message": "No authentication needed."})
                        }
                        Ok(Resolved::Account(a)) => json!({
                            "status": "active",
                            "connected_account_id": a.id.to_string(),
                        }),
                        Ok(Resolved::ChoiceRequired(accounts)) => json!({
                            "status": "active",
                            "message": "Several accounts are connected; choose one per call with `account`.",
                            "connected_account_ids": accounts.iter().map(|a| a.id.to_string()).collect::<Vec<_>>(),
                        }),
                        Ok(Resolved::NeedsConnection(_)) => {
                            pending += 1;
                            json!({"status": "not_connected",
                                   "message": "The user has not finished connecting this toolkit."})
                        }
                        Err(e) => json!({"status": "failed", "message": e.message}),
                    }
                }
                _ => json!({"status": "failed",
                            "message": format!("Toolkit `{slug}` is unknown or not enabled in this session.")}),
            };
            results.insert(slug.clone(), entry);
        }
        (results, pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_default_and_are_clamped() {
        let check = |args: Value| requested_wait(&args);
        assert_eq!(check(json!({})), Ok(WAIT_DEFAULT));
        assert_eq!(check(json!({"timeout_seconds": null})), Ok(WAIT_DEFAULT));
        assert_eq!(
            check(json!({"timeout_seconds": 5})),
            Ok(Duration::from_secs(5))
        );
        assert_eq!(check(json!({"timeout_seconds": 300})), Ok(WAIT_MAX));
        assert_eq!(
            check(json!({"timeout_seconds": 0.2})),
            Ok(Duration::from_secs(1))
        );
        for bad in [json!(0), json!(-3), json!("ten")] {
            assert!(check(json!({"timeout_seconds": bad})).is_err(), "{bad}");
        }
    }
}
