//! LLM provider formats: a session's tools as each provider declares functions, the tool
//! calls in each provider's response, and the messages that carry results back.
//!
//! Every provider follows the same loop, so one trait covers them:
//!
//! ```no_run
//! # async fn run(session: toolrouter_client::Session, response: serde_json::Value)
//! # -> Result<(), toolrouter_client::Error> {
//! use toolrouter_client::provider::{OpenAiChat, Provider};
//!
//! let provider = OpenAiChat::new();
//! let tools = session.tools_for(&provider).await?; // the request's "tools"
//! // … send the conversation and `tools` to the model, get `response` back …
//! let messages = session.handle_tool_calls(&provider, &response).await?;
//! // … append `messages` to the conversation and ask the model again …
//! # Ok(()) }
//! ```
//!
//! Tool names are the tool slugs, unchanged, so a call maps back to its tool without a table.
//! The result shown to the model is `{"data", "error", "successful"}` for every provider.

mod anthropic;
mod gemini;
mod openai;
mod schema;

use serde_json::Value;
use toolrouter_api::catalog::Tool;

use crate::error::Error;
use crate::session::ToolResult;

pub(crate) use schema::drop_unset_nulls;

pub use anthropic::Anthropic;
pub use gemini::Gemini;
pub use openai::{OpenAiChat, OpenAiResponses};

/// One function call the model asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    /// The provider's id for the call, echoed in the result (Gemini may omit it).
    pub id: Option<String>,
    /// The tool slug.
    pub name: String,
    /// The arguments: an object normally; a string when the model's JSON did not parse.
    pub arguments: Value,
}

/// A call and its result.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutcome {
    pub call: ToolCall,
    pub result: ToolResult,
}

/// A provider's tool format.
pub trait Provider {
    /// The provider's name, for errors.
    fn name(&self) -> &'static str;

    /// The tools as the value of the provider request's `tools` field.
    fn tools(&self, tools: &[Tool]) -> Vec<Value>;

    /// The tool calls in a model response, in order; none when the model answered in text.
    fn tool_calls(&self, response: &Value) -> Result<Vec<ToolCall>, Error>;

    /// The messages (or items) carrying `outcomes` back, in order, to append to the
    /// conversation.
    fn tool_results(&self, outcomes: &[ToolOutcome]) -> Vec<Value>;
}

/// Arguments sent as a JSON string (OpenAI): the object, `{}` for nothing, or the raw text
/// when it does not parse, so the model can be told.
fn parse_arguments(raw: &Value) -> Value {
    match raw {
        Value::String(s) if s.trim().is_empty() => Value::Object(serde_json::Map::new()),
        Value::String(s) => serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone())),
        Value::Null => Value::Object(serde_json::Map::new()),
        other => other.clone(),
    }
}

/// A required string field of a call, or an error naming the call.
fn field<'a>(
    provider: &'static str,
    item: &'a Value,
    path: &[&str],
    index: usize,
) -> Result<&'a str, Error> {
    path.iter()
        .try_fold(item, |v, k| v.get(k))
        .and_then(Value::as_str)
        .ok_or_else(|| Error::Provider {
            provider,
            message: format!("tool call {index} has no {}", path.join(".")),
        })
}

/// The array at `key` of `v`, if `v` has one; an error if `key` holds something else.
fn array_at<'a>(
    provider: &'static str,
    v: &'a Value,
    key: &str,
) -> Result<Option<&'a Vec<Value>>, Error> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(_) => Err(Error::Provider {
            provider,
            message: format!("`{key}` is not a list"),
        }),
    }
}

#[cfg(test)]
mod tests;
