//! Large tool results: a session result whose serialized `data` is larger than
//! `AppConfig::large_result_bytes` is written to a file in the session's files directory (the
//! workbench's `/mnt/files`) and replaced by a reference with a preview, so an agent's context
//! is not flooded and the full result stays one `open()` away in the sandbox (or one download
//! through the files mount).
//!
//! The reference (our shape; the contract describes none for `/execute`) is
//! `data = {"large_result": {"path", "size", "content_type", "preview", "truncated"},
//! "message"}` on a result whose `successful`/`error` are unchanged. The file is
//! `/mnt/files/.composio/results/<log_id>.json`, next to where the workbench driver offloads
//! long outputs. If the file cannot be written the full result is returned as it is.

use serde_json::json;
use toolrouter_core::SessionId;

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

impl App {
    /// Replaces `result.data` by a file reference when it is larger than the configured limit.
    pub(crate) async fn offload_large_result(&self, session_id: &str, result: &mut ToolResult) {
        let limit = self.inner.large_result_bytes;
        // Cheap first check: most results are small objects.
        let text = match serde_json::to_string(&result.data) {
            Ok(t) if t.len() > limit => t,
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
        result.data = json!({
            "large_result": {
                "path": path,
                "size": size,
                "content_type": "application/json",
                "preview": preview(&text, PREVIEW_CHARS),
                "truncated": true,
            },
            "message": format!(
                "The result is {size} bytes, more than the {limit}-byte limit, so it was saved to {path}. \
                 Read it with COMPOSIO_REMOTE_WORKBENCH (e.g. json.load(open('{path}'))) or download \
                 it through the session's files mount; `preview` holds its beginning."
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::preview;

    #[test]
    fn previews_cut_on_character_boundaries() {
        assert_eq!(preview("héllo wörld", 4), "héll");
        assert_eq!(preview("short", 100), "short");
        assert_eq!(preview("", 3), "");
    }
}
