//! Direct tool access: listing catalog tools and executing one for a user without creating a
//! session (the official SDKs' `composio.tools.get` / `composio.tools.execute`), for scripts
//! and one-off calls. Tools come back as the same [`Tool`] a session lists, so every
//! [`Provider`] formats them, and runs as the same [`ToolResult`] a session returns. There are
//! no meta tools, workbench or session-scoped connection management here: that is what
//! sessions are for.

use serde_json::{Value, json};
use toolrouter_api::auth::{ToolExecute, ToolExecuted};
use toolrouter_api::catalog::{Paginated, Tool};

use crate::client::{Call, Client};
use crate::error::Error;
use crate::provider::Provider;
use crate::session::{ResultType, ToolResult};

/// Which catalog tools [`Tools::list`] returns; all filters are optional and combine.
#[derive(Debug, Clone, Default)]
pub struct ToolsQuery {
    toolkits: Vec<String>,
    tools: Vec<String>,
    search: Option<String>,
    limit: Option<u32>,
}

impl ToolsQuery {
    pub fn new() -> Self {
        ToolsQuery::default()
    }

    /// Only tools of these toolkits (e.g. `github`).
    pub fn toolkits<S: Into<String>>(mut self, toolkits: impl IntoIterator<Item = S>) -> Self {
        self.toolkits = toolkits.into_iter().map(Into::into).collect();
        self
    }

    /// Only these tools, by slug (e.g. `GITHUB_STAR_A_REPOSITORY`).
    pub fn tools<S: Into<String>>(mut self, slugs: impl IntoIterator<Item = S>) -> Self {
        self.tools = slugs.into_iter().map(Into::into).collect();
        self
    }

    /// Only tools matching a text, best match first.
    pub fn search(mut self, text: impl Into<String>) -> Self {
        self.search = Some(text.into());
        self
    }

    /// At most this many tools (one request). Without it, every page is fetched.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    fn call(&self) -> Call {
        let mut call = Call::get(&["tools"], "tool list");
        if !self.toolkits.is_empty() {
            call = call.query("toolkit_slug", self.toolkits.join(","));
        }
        if !self.tools.is_empty() {
            call = call.query("tool_slugs", self.tools.join(","));
        }
        if let Some(s) = &self.search {
            call = call.query("search", s.clone());
        }
        if let Some(l) = self.limit {
            call = call.query("limit", l.to_string());
        }
        call
    }
}

/// Who a direct execution runs for, and with what: the user (whose connected account for the
/// tool's toolkit is used) or a connected account, plus the tool's arguments.
#[derive(Debug, Clone, Default)]
pub struct ExecuteDirect {
    user_id: Option<String>,
    connected_account_id: Option<String>,
    arguments: Option<Value>,
    version: Option<String>,
}

impl ExecuteDirect {
    /// Runs for `user_id`, with their connected account for the tool's toolkit if it needs one.
    pub fn for_user(user_id: impl Into<String>) -> Self {
        ExecuteDirect {
            user_id: Some(user_id.into()),
            ..ExecuteDirect::default()
        }
    }

    /// Runs with this connected account (`ca_…`).
    pub fn for_account(connected_account_id: impl Into<String>) -> Self {
        ExecuteDirect {
            connected_account_id: Some(connected_account_id.into()),
            ..ExecuteDirect::default()
        }
    }

    /// Also name the user; the server checks that the account is theirs.
    pub fn user_id(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }

    /// Also name the connected account to use.
    pub fn connected_account_id(mut self, id: impl Into<String>) -> Self {
        self.connected_account_id = Some(id.into());
        self
    }

    /// The tool's arguments, a JSON object (`{}` when not set).
    pub fn arguments(mut self, arguments: Value) -> Self {
        self.arguments = Some(arguments);
        self
    }

    /// A specific tool version.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    fn into_wire(self) -> ToolExecute {
        ToolExecute {
            user_id: self.user_id,
            connected_account_id: self.connected_account_id,
            // Always sent, `{}` when there are none, as the SDKs do.
            arguments: Some(match self.arguments {
                None | Some(Value::Null) => json!({}),
                Some(a) => a,
            }),
            version: self.version,
            ..ToolExecute::default()
        }
    }
}

/// Catalog tools without a session; from [`Client::tools`].
///
/// ```no_run
/// # async fn run(client: toolrouter_client::Client) -> Result<(), toolrouter_client::Error> {
/// use serde_json::json;
/// use toolrouter_client::provider::OpenAiChat;
/// use toolrouter_client::{ExecuteDirect, ToolsQuery};
///
/// let query = ToolsQuery::new().toolkits(["github"]).limit(10);
/// let tools = client.tools().list_for(&OpenAiChat::new(), &query).await?;
/// let result = client
///     .tools()
///     .execute(
///         "GITHUB_STAR_A_REPOSITORY_FOR_THE_AUTHENTICATED_USER",
///         ExecuteDirect::for_user("user_123")
///             .arguments(json!({"owner": "composiohq", "repo": "composio"})),
///     )
///     .await?;
/// println!("{} {}", result.successful, result.data);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Tools<'a> {
    client: &'a Client,
}

impl Tools<'_> {
    /// The catalog tools matching `query`, in the server's order (`GET /tools`, following
    /// `next_cursor` unless a [`limit`](ToolsQuery::limit) is set).
    pub async fn list(&self, query: &ToolsQuery) -> Result<Vec<Tool>, Error> {
        match query.limit {
            Some(limit) => {
                let page: Paginated<Tool> = self.client.send(query.call()).await?;
                let mut items = page.items;
                items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
                Ok(items)
            }
            None => self.client.all_pages(|| query.call()).await,
        }
    }

    /// [`list`](Self::list) in `provider`'s format, ready for its request's `tools` field.
    pub async fn list_for<P: Provider + ?Sized>(
        &self,
        provider: &P,
        query: &ToolsQuery,
    ) -> Result<Vec<Value>, Error> {
        Ok(provider.tools(&self.list(query).await?))
    }

    /// One tool by slug; [`Error::NotFound`] when the catalog has none.
    pub async fn get(&self, slug: &str) -> Result<Tool, Error> {
        self.client.send(Call::get(&["tools", slug], "tool")).await
    }

    /// Runs a tool for a user or connected account (`POST /tools/execute/{slug}`). A tool
    /// that runs and fails is a [`ResultType::Failed`] result; what the server refuses (an
    /// unknown tool, no usable connected account) is an [`Error`]. Never retried, so the
    /// tool's side effects happen at most once.
    pub async fn execute(&self, slug: &str, request: ExecuteDirect) -> Result<ToolResult, Error> {
        let call = Call::post(&["tools", "execute", slug], "execution result")
            .json(&request.into_wire())
            .once();
        let answer: ToolExecuted = self.client.send(call).await?;
        Ok(direct_result(answer))
    }
}

/// The direct answer as a [`ToolResult`], with the same rules as a session's: a failure
/// always says why, and absent data is `{}`.
fn direct_result(r: ToolExecuted) -> ToolResult {
    let result_type = if r.successful {
        ResultType::Completed
    } else {
        ResultType::Failed
    };
    ToolResult {
        data: match r.data {
            Value::Null => json!({}),
            d => d,
        },
        error: match (r.successful, r.error) {
            (false, None) => Some("the tool failed".to_owned()),
            (_, e) => e,
        },
        successful: r.successful,
        result_type,
        log_id: Some(r.log_id).filter(|l| !l.is_empty()),
        instant_charge: None,
    }
}

impl Client {
    /// Catalog tools without a session: list them and execute them for a user (the SDKs'
    /// `composio.tools`).
    pub fn tools(&self) -> Tools<'_> {
        Tools { client: self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_leaves_out_what_is_not_set() {
        let body = serde_json::to_value(ExecuteDirect::for_user("u1").into_wire()).unwrap();
        assert_eq!(body, json!({"user_id": "u1", "arguments": {}}));
        let body = serde_json::to_value(
            ExecuteDirect::for_account("ca_1")
                .arguments(json!({"msg": "hi"}))
                .version("20250101_00")
                .into_wire(),
        )
        .unwrap();
        assert_eq!(
            body,
            json!({"connected_account_id": "ca_1", "arguments": {"msg": "hi"},
                   "version": "20250101_00"})
        );
    }

    #[test]
    fn filters_become_the_catalog_query() {
        let c = Client::new("k", "https://h.example").unwrap();
        let query = ToolsQuery::new()
            .toolkits(["github", "gmail"])
            .tools(["A", "B"])
            .search("star a repo")
            .limit(5);
        assert_eq!(
            c.url(&query.call()).unwrap().as_str(),
            "https://h.example/api/v3.1/tools?toolkit_slug=github%2Cgmail&tool_slugs=A%2CB\
             &search=star+a+repo&limit=5"
        );
        assert_eq!(
            c.url(&ToolsQuery::new().call()).unwrap().as_str(),
            "https://h.example/api/v3.1/tools"
        );
    }

    #[test]
    fn a_failure_always_says_why() {
        let r = direct_result(ToolExecuted {
            data: Value::Null,
            error: None,
            successful: false,
            log_id: String::new(),
            session_info: None,
        });
        assert_eq!(r.result_type, ResultType::Failed);
        assert_eq!(r.error.as_deref(), Some("the tool failed"));
        assert_eq!(r.data, json!({}));
        assert_eq!(r.log_id, None);
        let r = direct_result(ToolExecuted {
            data: json!({"x": 1}),
            error: None,
            successful: true,
            log_id: "log_1".to_owned(),
            session_info: None,
        });
        assert_eq!(r.result_type, ResultType::Completed);
        assert_eq!((r.error, r.log_id.as_deref()), (None, Some("log_1")));
    }
}
