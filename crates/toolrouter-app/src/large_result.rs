//! Large tool results: a session result whose serialized `data` is too large is written to a
//! file in the session's files directory (the workbench's `/mnt/files`) and replaced by a
//! reference with a preview, so an agent's context is not flooded and the full result stays one
//! `open()` away in the sandbox (or one download through the files mount).
//!
//! Two limits apply ([`offload_limit`]):
//! - the server's `AppConfig::large_result_bytes` (`--large-result-bytes`, 256 KiB by default),
//!   always: no response carries more than that as `data`;
//! - the session's `workbench.auto_offload_threshold` (characters, 20 000 by default), when the
//!   consumer is an agent — the request asked for it (`enable_auto_workbench_offload`, which the
//!   SDKs' agentic providers send), or the call came through MULTI_EXECUTE_TOOL or MCP — and the
//!   session's workbench is enabled, so the agent can read the file (CONTRACT.md A.12).
//!
//! The reference (our shape; the contract describes none for `/execute`) is
//! `data = {"large_result": {"path", "size", "content_type", "preview", "truncated"},
//! "message"}` on a result whose `successful`/`error` are unchanged. The file is
//! `/mnt/files/.composio/results/<log_id>.json`, next to where the workbench driver offloads
//! long outputs. If the file cannot be written the full result is returned as it is.

use serde_json::json;
use toolrouter_core::SessionId;
use toolrouter_core::session::SessionConfig;

use crate::App;
use crate::execute::ToolResult;

/// Where the session's files appear inside its sandbox.
pub(crate) const SANDBOX_FILES_ROOT: &str = "/mnt/files";
/// The directory of saved results, relative to the files root.
pub(crate) const RESULTS_DIR: &str = ".composio/results";
/// Characters of the result kept as a preview.
pub(crate) const PREVIEW_CHARS: usize = 2_000;

/// The first `max` characters of `text` (on a character boundary).
fn preview(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

/// When a serialized result is too large to return whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OffloadLimit {
    /// The server's limit, in bytes.
    bytes: usize,
    /// The session's threshold, in characters, when it applies.
    chars: Option<usize>,
}

impl OffloadLimit {
    fn exceeded_by(self, text: &str) -> bool {
        // Bytes bound characters from above, so the character count (a pass over the text) is
        // only taken when the byte length says it might matter.
        text.len() > self.bytes
            || self
                .chars
                .is_some_and(|c| text.len() > c && text.chars().count() > c)
    }

    /// The limit to quote in the agent's message.
    fn describe(self, text: &str) -> String {
        match self.chars {
            Some(c) if text.len() <= self.bytes => format!(
                "{} characters, more than the session's {c}-character auto_offload_threshold",
                text.chars().count()
            ),
            _ => format!(
                "{} bytes, more than the {}-byte limit",
                text.len(),
                self.bytes
            ),
        }
    }
}

/// The limit for a result of `config`'s session: the session's threshold joins the server's
/// when an agent consumes the result (`for_agent`) and the session's workbench is enabled.
pub(crate) fn offload_limit(
    server_bytes: usize,
    config: &SessionConfig,
    for_agent: bool,
) -> OffloadLimit {
    let chars = (for_agent && config.workbench.enabled)
        .then(|| usize::try_from(config.workbench.auto_offload_threshold).unwrap_or(usize::MAX));
    OffloadLimit {
        bytes: server_bytes,
        chars,
    }
}

impl App {
    /// Replaces `result.data` by a file reference when it exceeds `limit`.
    pub(crate) async fn offload_large_result(
        &self,
        session_id: &str,
        limit: OffloadLimit,
        result: &mut ToolResult,
    ) {
        // Small results (most of them) stop at the serialization.
        let text = match serde_json::to_string(&result.data) {
            Ok(t) if limit.exceeded_by(&t) => t,
            _ => return,
        };
        let Some(session) = SessionId::parse(session_id) else {
            return;
        };
        let dir = self.session_files_dir(&session).join(RESULTS_DIR);
        let name = format!("{}.json", result.log_id);
        let written = async {
            tokio::fs::create_dir_all(&dir).await?;
            tokio::fs::write(dir.join(&name), text.as_bytes()).await
        }
        .await;
        if let Err(e) = written {
            tracing::warn!(error = %e, session = %session_id, "could not save a large result; returning it whole");
            return;
        }
        let path = format!("{SANDBOX_FILES_ROOT}/{RESULTS_DIR}/{name}");
        let size = text.len();
        let why = limit.describe(&text);
        result.data = json!({
            "large_result": {
                "path": path,
                "size": size,
                "content_type": "application/json",
                "preview": preview(&text, PREVIEW_CHARS),
                "truncated": true,
            },
            "message": format!(
                "The result is {why}, so it was saved to {path}. \
                 Read it with COMPOSIO_REMOTE_WORKBENCH (e.g. json.load(open('{path}'))) or download \
                 it through the session's files mount; `preview` holds its beginning."
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use toolrouter_core::session::SessionConfig;

    use super::{offload_limit, preview};

    #[test]
    fn the_session_threshold_applies_to_agents_with_a_workbench() {
        let mut config = SessionConfig::create("u1", &Default::default()).unwrap();
        config.workbench.auto_offload_threshold = 10;
        let text = "\"ééééééééé\""; // 11 characters, 20 bytes
        // Not for an agent: only the server's byte limit.
        assert!(!offload_limit(64, &config, false).exceeded_by(text));
        assert!(offload_limit(16, &config, false).exceeded_by(text));
        // For an agent: characters are counted, not bytes.
        let limit = offload_limit(64, &config, true);
        assert!(limit.exceeded_by(text));
        assert!(
            !limit.exceeded_by("\"éééééééé\""),
            "10 characters are within 10"
        );
        assert_eq!(
            limit.describe(text),
            "11 characters, more than the session's 10-character auto_offload_threshold"
        );
        assert_eq!(
            offload_limit(16, &config, true).describe(text),
            "20 bytes, more than the 16-byte limit"
        );
        // Without a workbench the agent could not read the file: the server's limit only.
        config.workbench.enabled = false;
        assert!(!offload_limit(64, &config, true).exceeded_by(text));
    }

    #[test]
    fn previews_cut_on_character_boundaries() {
        assert_eq!(preview("héllo wörld", 4), "héll");
        assert_eq!(preview("short", 100), "short");
        assert_eq!(preview("", 3), "");
    }
}
