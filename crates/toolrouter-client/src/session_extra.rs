//! The session flows beyond tools and connections that the official SDKs also offer: calling
//! a toolkit's API directly with the user's credential (`proxy_execute`, CONTRACT.md §3.12),
//! the session's file mount (`session.experimental.files`, §3.15) and the history of the
//! session's configuration (§3.14). They live apart from `session.rs` so that file stays about
//! tools; each sends exactly the requests the official SDKs send.

use reqwest::Method;
use reqwest::header::{self, HeaderValue};
use serde_json::Value;
use toolrouter_api::catalog::Paginated;
use toolrouter_api::mounts::{
    DownloadUrlResponse, MountDeleteResponse, MountItemsResponse, MountPathRequest,
    UploadUrlRequest, UploadUrlResponse,
};
use toolrouter_api::proxy::{ProxyParameter, ProxyResponse, SessionProxyRequest};
use toolrouter_api::session::ConfigHistoryItem;

use crate::client::Call;
use crate::error::{ApiError, Error};
use crate::session::Session;

/// The id of the session's file mount.
const FILES_MOUNT: &str = "files";

/// A request to a toolkit's own API, sent by [`Session::proxy_execute`] with the user's
/// connected account.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProxyRequest {
    /// The toolkit whose connected account authenticates the call (`github`).
    pub toolkit: String,
    /// A path under the toolkit's base URL (`/user`), or a full URL under it.
    pub endpoint: String,
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: String,
    /// A JSON body.
    pub body: Option<Value>,
    /// Extra headers (`type: "header"`) and query parameters (`type: "query"`).
    pub parameters: Vec<ProxyParameter>,
}

impl ProxyRequest {
    /// A request without body or parameters.
    pub fn new(
        toolkit: impl Into<String>,
        method: impl Into<String>,
        endpoint: impl Into<String>,
    ) -> Self {
        ProxyRequest {
            toolkit: toolkit.into(),
            endpoint: endpoint.into(),
            method: method.into(),
            body: None,
            parameters: Vec::new(),
        }
    }
}

impl Session {
    /// Calls the toolkit's API directly with the user's connected account: the server adds
    /// the credential and answers with the upstream status, data and headers (§3.12). An
    /// endpoint outside the toolkit's base URL is refused with an error.
    ///
    /// ```no_run
    /// # async fn run(session: toolrouter_client::Session) -> Result<(), toolrouter_client::Error> {
    /// use toolrouter_client::ProxyRequest;
    ///
    /// let r = session.proxy_execute(ProxyRequest::new("github", "GET", "/user")).await?;
    /// println!("{} {}", r.status, r.data);
    /// # Ok(()) }
    /// ```
    pub async fn proxy_execute(&self, request: ProxyRequest) -> Result<ProxyResponse, Error> {
        let body = SessionProxyRequest {
            toolkit_slug: request.toolkit,
            endpoint: request.endpoint,
            method: request.method,
            body: request.body,
            binary_body: None,
            parameters: Some(request.parameters).filter(|p| !p.is_empty()),
            custom_connection_data: None,
        };
        let call = Call::post(
            &["tool_router", "session", self.id(), "proxy_execute"],
            "proxy response",
        )
        .json(&body)
        .once();
        self.client().send(call).await
    }

    /// The versions of the session's configuration, newest first, one page at a time
    /// (§3.14); the current one has `is_current`.
    ///
    /// ```no_run
    /// # async fn run(session: toolrouter_client::Session) -> Result<(), toolrouter_client::Error> {
    /// for v in session.list_config_history(Some(10), None).await?.items {
    ///     println!("version {} current={}", v.version, v.is_current);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list_config_history(
        &self,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Paginated<ConfigHistoryItem>, Error> {
        let mut call = Call::get(
            &["tool_router", "session", self.id(), "config_history"],
            "config history",
        );
        if let Some(limit) = limit {
            call = call.query("limit", limit.to_string());
        }
        if let Some(cursor) = cursor {
            call = call.query("cursor", cursor);
        }
        self.client().send(call).await
    }

    /// The session's file mount (the SDKs' `session.experimental.files`), the files the
    /// workbench sees under its mount prefix.
    pub fn files(&self) -> SessionFiles<'_> {
        SessionFiles { session: self }
    }
}

/// The session's file mount (mount id `files`, §3.15), from [`Session::files`].
///
/// ```no_run
/// # async fn run(session: toolrouter_client::Session) -> Result<(), toolrouter_client::Error> {
/// let files = session.files();
/// files.upload("reports/q1.csv", b"a,b\n1,2\n".to_vec(), Some("text/csv")).await?;
/// for item in files.list(Some("reports/"), None, None).await?.items {
///     println!("{} ({} bytes)", item.mount_relative_path, item.size);
/// }
/// let bytes = files.download("reports/q1.csv").await?;
/// files.delete("reports/q1.csv").await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SessionFiles<'a> {
    session: &'a Session,
}

impl SessionFiles<'_> {
    fn segments<'s>(&'s self, action: &'s str) -> [&'s str; 6] {
        [
            "tool_router",
            "session",
            self.session.id(),
            "mounts",
            FILES_MOUNT,
            action,
        ]
    }

    /// One page of the mount's files, optionally only those whose path starts with `prefix`.
    pub async fn list(
        &self,
        prefix: Option<&str>,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<MountItemsResponse, Error> {
        let mut call = Call::get(&self.segments("items"), "mount item list");
        if let Some(prefix) = prefix {
            call = call.query("mount_relative_prefix", prefix);
        }
        if let Some(limit) = limit {
            call = call.query("limit", limit.to_string());
        }
        if let Some(cursor) = cursor {
            call = call.query("cursor", cursor);
        }
        self.session.client().send(call).await
    }

    /// Stores `bytes` at `remote_path`: asks for a signed upload URL, then PUTs the bytes
    /// there (without the API key, as the URL is its own authorisation).
    pub async fn upload(
        &self,
        remote_path: &str,
        bytes: Vec<u8>,
        mimetype: Option<&str>,
    ) -> Result<UploadUrlResponse, Error> {
        let body = UploadUrlRequest {
            mount_relative_path: remote_path.to_owned(),
            mimetype: mimetype.map(str::to_owned),
        };
        let call = Call::post(&self.segments("upload_url"), "upload URL")
            .json(&body)
            .once();
        let signed: UploadUrlResponse = self.session.client().send(call).await?;
        let content_type = mimetype.unwrap_or("application/octet-stream");
        let content_type = HeaderValue::from_str(content_type)
            .map_err(|_| Error::Config(format!("{content_type:?} is not a valid mimetype")))?;
        let request = self
            .session
            .client()
            .http()
            .put(&signed.upload_url)
            .header(header::CONTENT_TYPE, content_type)
            .body(bytes);
        transfer(Method::PUT, &signed.upload_url, request).await?;
        Ok(signed)
    }

    /// The bytes of the file at `path`: asks for a signed download URL, then GETs it.
    pub async fn download(&self, path: &str) -> Result<Vec<u8>, Error> {
        let body = MountPathRequest {
            mount_relative_path: path.to_owned(),
        };
        let call = Call::post(&self.segments("download_url"), "download URL").json(&body);
        let signed: DownloadUrlResponse = self.session.client().send(call).await?;
        let request = self.session.client().http().get(&signed.download_url);
        transfer(Method::GET, &signed.download_url, request).await
    }

    /// Deletes the file at `path`.
    pub async fn delete(&self, path: &str) -> Result<MountDeleteResponse, Error> {
        let body = MountPathRequest {
            mount_relative_path: path.to_owned(),
        };
        let call = Call::post(&self.segments("delete"), "mount delete")
            .json(&body)
            .once();
        self.session.client().send(call).await
    }
}

/// Sends a request to a signed transfer URL and returns the body of a 2xx answer.
async fn transfer(
    method: Method,
    url: &str,
    request: reqwest::RequestBuilder,
) -> Result<Vec<u8>, Error> {
    let transport = |source| Error::Transport {
        method: method.to_string(),
        url: url.to_owned(),
        source,
    };
    let resp = request.send().await.map_err(transport)?;
    let status = resp.status();
    let request_id = crate::client::request_id_of(resp.headers());
    let body = resp.bytes().await.map_err(transport)?;
    if !status.is_success() {
        return Err(Error::from_api(ApiError::from_body(
            status.as_u16(),
            &body,
            request_id,
        )));
    }
    Ok(body.to_vec())
}
