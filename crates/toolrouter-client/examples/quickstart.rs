//! The seed's first flow, runnable: create a session for a user, list the tools a model would
//! get (in OpenAI's format), search for a task, and show the MCP endpoint and the user's
//! toolkits. Exists so a newcomer can check a server end to end in one command:
//!
//! ```sh
//! toolrouter serve &                                   # first start writes toolrouter-data/api-key
//! TOOLROUTER_API_KEY=$(cat toolrouter-data/api-key) \
//!     cargo run -p toolrouter-client --example quickstart -- "send an email"
//! ```

use toolrouter_client::provider::OpenAiChat;
use toolrouter_client::{Client, Error, SessionConfig};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let task = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "send an email".to_owned());
    // TOOLROUTER_API_KEY / TOOLROUTER_BASE_URL (or COMPOSIO_API_KEY / COMPOSIO_BASE_URL).
    let client = Client::from_env()?;
    let session = client.create("user_123", SessionConfig::new()).await?;
    let mut report = format!("session {} for {}\n", session.id(), session.user_id());

    let tools = session.tools_for(&OpenAiChat::new()).await?;
    report.push_str(&format!("{} tools for the model:\n", tools.len()));
    for t in &tools {
        report.push_str(&format!(
            "  {}\n",
            t["function"]["name"].as_str().unwrap_or_default()
        ));
    }

    let found = session.search(&task).await?;
    for r in &found.results {
        report.push_str(&format!(
            "for {:?}: {}\n",
            r.use_case,
            r.primary_tool_slugs.join(", ")
        ));
    }

    for t in session.toolkits().await?.items.iter().take(5) {
        let state = match &t.connection {
            None => "no auth needed",
            Some(c) if c.is_active => "connected",
            Some(_) => "not connected",
        };
        report.push_str(&format!("toolkit {}: {state}\n", t.slug));
    }
    report.push_str(&format!("MCP: {}\n", session.mcp().url));
    session.delete().await?;

    use std::io::Write as _;
    let _ = std::io::stdout().lock().write_all(report.as_bytes());
    Ok(())
}
