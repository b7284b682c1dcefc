//! Anthropic's Messages API: tools as `{name, description, input_schema}`, calls as
//! `tool_use` content blocks, results as `tool_result` blocks, all in one `user` message as
//! the API requires.

use serde_json::{Value, json};
use toolrouter_api::catalog::Tool;

use super::{Provider, ToolCall, ToolOutcome, array_at, field, schema};
use crate::error::Error;

/// Anthropic Messages.
#[derive(Debug, Clone, Copy, Default)]
pub struct Anthropic;

impl Anthropic {
    pub fn new() -> Self {
        Anthropic
    }
}

impl Provider for Anthropic {
    fn name(&self) -> &'static str {
        "Anthropic message"
    }

    fn tools(&self, tools: &[Tool]) -> Vec<Value> {
        tools
            .iter()
            .map(|t| {
                json!({
                    "name": t.slug,
                    "description": t.description,
                    "input_schema": schema::loose(&t.input_parameters),
                })
            })
            .collect()
    }

    fn tool_calls(&self, response: &Value) -> Result<Vec<ToolCall>, Error> {
        // A whole message, or its `content` blocks alone.
        let blocks = match response {
            Value::Array(blocks) => blocks,
            _ => match array_at(self.name(), response, "content")? {
                Some(blocks) => blocks,
                None => return Ok(Vec::new()),
            },
        };
        blocks
            .iter()
            .enumerate()
            .filter(|(_, b)| b.get("type").is_some_and(|t| t == "tool_use"))
            .map(|(i, b)| {
                Ok(ToolCall {
                    id: Some(field(self.name(), b, &["id"], i)?.to_owned()),
                    name: field(self.name(), b, &["name"], i)?.to_owned(),
                    arguments: b.get("input").cloned().unwrap_or(Value::Null),
                })
            })
            .collect()
    }

    fn tool_results(&self, outcomes: &[ToolOutcome]) -> Vec<Value> {
        if outcomes.is_empty() {
            return Vec::new();
        }
        let blocks: Vec<Value> = outcomes
            .iter()
            .map(|o| {
                let mut block = json!({
                    "type": "tool_result",
                    "tool_use_id": o.call.id,
                    "content": o.result.to_model_json().to_string(),
                });
                if !o.result.successful {
                    block["is_error"] = json!(true);
                }
                block
            })
            .collect();
        vec![json!({"role": "user", "content": blocks})]
    }
}
