//! OpenAI's two function-calling APIs: Chat Completions (`tools[].function`, calls in
//! `choices[0].message.tool_calls`, results as `role: "tool"` messages) and Responses (flat
//! `tools[]`, calls as `function_call` output items, results as `function_call_output` items).
//!
//! Strict mode is opt-in: with it, each tool whose schema can be made strict is sent strict,
//! and the others are sent with `strict: false` rather than with a schema that would accept
//! something else than the tool does.

use serde_json::{Value, json};
use toolrouter_api::catalog::Tool;

use super::{Provider, ToolCall, ToolOutcome, array_at, field, parse_arguments, schema};
use crate::error::Error;

/// `(parameters, strict)` for a tool: strict when asked and possible.
fn parameters(tool: &Tool, strict: bool) -> (Value, bool) {
    if strict && let Some(p) = schema::strict(&tool.input_parameters) {
        return (p, true);
    }
    (schema::loose(&tool.input_parameters), false)
}

/// OpenAI Chat Completions.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenAiChat {
    strict: bool,
}

impl OpenAiChat {
    pub fn new() -> Self {
        OpenAiChat::default()
    }

    /// Declare tools with `strict: true` where their schema allows it.
    pub fn strict(mut self, on: bool) -> Self {
        self.strict = on;
        self
    }
}

impl Provider for OpenAiChat {
    fn name(&self) -> &'static str {
        "OpenAI chat completion"
    }

    fn tools(&self, tools: &[Tool]) -> Vec<Value> {
        tools
            .iter()
            .map(|t| {
                let (parameters, strict) = parameters(t, self.strict);
                let mut function = json!({
                    "name": t.slug,
                    "description": t.description,
                    "parameters": parameters,
                });
                // Without strict mode asked for, the key is left out (the API's default).
                if self.strict {
                    function["strict"] = json!(strict);
                }
                json!({"type": "function", "function": function})
            })
            .collect()
    }

    fn tool_calls(&self, response: &Value) -> Result<Vec<ToolCall>, Error> {
        // A whole completion (the first choice, as the SDKs read it) or just its message.
        let message = response
            .get("choices")
            .and_then(|c| c.get(0))
            .and_then(|c| c.get("message"))
            .unwrap_or(response);
        let Some(calls) = array_at(self.name(), message, "tool_calls")? else {
            return Ok(Vec::new());
        };
        calls
            .iter()
            .enumerate()
            .filter(|(_, c)| c.get("type").is_none_or(|t| t == "function"))
            .map(|(i, c)| {
                Ok(ToolCall {
                    id: Some(field(self.name(), c, &["id"], i)?.to_owned()),
                    name: field(self.name(), c, &["function", "name"], i)?.to_owned(),
                    arguments: parse_arguments(&c["function"]["arguments"]),
                })
            })
            .collect()
    }

    fn tool_results(&self, outcomes: &[ToolOutcome]) -> Vec<Value> {
        outcomes
            .iter()
            .map(|o| {
                json!({
                    "role": "tool",
                    "tool_call_id": o.call.id,
                    "content": o.result.to_model_json().to_string(),
                })
            })
            .collect()
    }
}

/// OpenAI Responses.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenAiResponses {
    strict: bool,
}

impl OpenAiResponses {
    pub fn new() -> Self {
        OpenAiResponses::default()
    }

    /// Declare tools with `strict: true` where their schema allows it. Off by default;
    /// `strict` is always sent because the Responses API would otherwise assume true.
    pub fn strict(mut self, on: bool) -> Self {
        self.strict = on;
        self
    }
}

impl Provider for OpenAiResponses {
    fn name(&self) -> &'static str {
        "OpenAI Responses"
    }

    fn tools(&self, tools: &[Tool]) -> Vec<Value> {
        tools
            .iter()
            .map(|t| {
                let (parameters, strict) = parameters(t, self.strict);
                json!({
                    "type": "function",
                    "name": t.slug,
                    "description": t.description,
                    "parameters": parameters,
                    "strict": strict,
                })
            })
            .collect()
    }

    fn tool_calls(&self, response: &Value) -> Result<Vec<ToolCall>, Error> {
        // A whole response, or its `output` list alone.
        let items = match response {
            Value::Array(items) => items,
            _ => match array_at(self.name(), response, "output")? {
                Some(items) => items,
                None => return Ok(Vec::new()),
            },
        };
        items
            .iter()
            .enumerate()
            .filter(|(_, item)| item.get("type").is_some_and(|t| t == "function_call"))
            .map(|(i, item)| {
                Ok(ToolCall {
                    id: Some(field(self.name(), item, &["call_id"], i)?.to_owned()),
                    name: field(self.name(), item, &["name"], i)?.to_owned(),
                    arguments: parse_arguments(&item["arguments"]),
                })
            })
            .collect()
    }

    fn tool_results(&self, outcomes: &[ToolOutcome]) -> Vec<Value> {
        outcomes
            .iter()
            .map(|o| {
                json!({
                    "type": "function_call_output",
                    "call_id": o.call.id,
                    "output": o.result.to_model_json().to_string(),
                })
            })
            .collect()
    }
}
