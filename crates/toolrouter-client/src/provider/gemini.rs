//! Google Gemini (`generateContent`): tools as one `functionDeclarations` list whose
//! parameters use Gemini's OpenAPI 3.0 schema subset, calls as `functionCall` parts of the
//! first candidate, results as `functionResponse` parts of one `user` turn.

use serde_json::{Value, json};
use toolrouter_api::catalog::Tool;

use super::{Provider, ToolCall, ToolOutcome, array_at, field, schema};
use crate::error::Error;

/// Google Gemini.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gemini;

impl Gemini {
    pub fn new() -> Self {
        Gemini
    }
}

impl Provider for Gemini {
    fn name(&self) -> &'static str {
        "Gemini response"
    }

    fn tools(&self, tools: &[Tool]) -> Vec<Value> {
        if tools.is_empty() {
            return Vec::new();
        }
        let declarations: Vec<Value> = tools
            .iter()
            .map(|t| {
                let mut d = json!({"name": t.slug, "description": t.description});
                if let Some(p) = schema::gemini(&t.input_parameters) {
                    d["parameters"] = p;
                }
                d
            })
            .collect();
        vec![json!({"functionDeclarations": declarations})]
    }

    fn tool_calls(&self, response: &Value) -> Result<Vec<ToolCall>, Error> {
        // A whole response (its first candidate), a `Content`, or its `parts` alone.
        let content = response
            .get("candidates")
            .and_then(|c| c.get(0))
            .and_then(|c| c.get("content"))
            .unwrap_or(response);
        let parts = match content {
            Value::Array(parts) => parts,
            _ => match array_at(self.name(), content, "parts")? {
                Some(parts) => parts,
                None => return Ok(Vec::new()),
            },
        };
        parts
            .iter()
            .filter_map(|p| p.get("functionCall"))
            .enumerate()
            .map(|(i, call)| {
                Ok(ToolCall {
                    id: call.get("id").and_then(Value::as_str).map(str::to_owned),
                    name: field(self.name(), call, &["name"], i)?.to_owned(),
                    arguments: call.get("args").cloned().unwrap_or(Value::Null),
                })
            })
            .collect()
    }

    fn tool_results(&self, outcomes: &[ToolOutcome]) -> Vec<Value> {
        if outcomes.is_empty() {
            return Vec::new();
        }
        let parts: Vec<Value> = outcomes
            .iter()
            .map(|o| {
                let mut response = json!({
                    "name": o.call.name,
                    "response": o.result.to_model_json(),
                });
                if let Some(id) = &o.call.id {
                    response["id"] = json!(id);
                }
                json!({"functionResponse": response})
            })
            .collect();
        vec![json!({"role": "user", "parts": parts})]
    }
}
