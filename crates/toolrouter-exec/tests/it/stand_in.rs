//! A local stand-in for a third-party API: records every request it receives and answers with
//! replies queued by the test, so a test can check exactly what toolrouter put on the wire.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Response, StatusCode, Uri};
use serde_json::Value;

/// What the stand-in answers to the next request.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    /// Wait this long before answering (to exercise timeouts).
    pub(crate) delay: Duration,
}

impl Reply {
    /// A reply as a cases file states it: a JSON body, a string sent as plain text, or `null`
    /// for no body at all.
    pub(crate) fn from_case(status: u16, body: &Value, headers: &[(String, String)]) -> Reply {
        let (content_type, body) = match body {
            Value::Null => (None, Vec::new()),
            Value::String(text) => (Some("text/plain; charset=utf-8"), text.clone().into_bytes()),
            other => (Some("application/json"), other.to_string().into_bytes()),
        };
        let mut all = headers.to_vec();
        if let Some(ct) = content_type
            && !all
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            all.push(("content-type".to_owned(), ct.to_owned()));
        }
        Reply {
            status,
            headers: all,
            body,
            delay: Duration::ZERO,
        }
    }

    pub(crate) fn json(status: u16, body: &Value) -> Reply {
        Reply::from_case(status, body, &[])
    }
}

/// One request as received.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) method: Method,
    /// The path exactly as sent, still percent-encoded.
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

#[derive(Default)]
struct Shared {
    replies: Mutex<VecDeque<Reply>>,
    seen: Mutex<Vec<Seen>>,
}

/// A running stand-in on `127.0.0.1:0`; stops when dropped.
pub(crate) struct StandIn {
    pub(crate) addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl StandIn {
    pub(crate) async fn start() -> StandIn {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("stand-in serves");
        });
        StandIn { addr, shared, task }
    }

    /// `http://127.0.0.1:PORT`.
    pub(crate) fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) fn push(&self, reply: Reply) {
        self.shared.replies.lock().expect("lock").push_back(reply);
    }

    /// The requests received since the last call, and forgets queued replies not used.
    pub(crate) fn take(&self) -> Vec<Seen> {
        self.shared.replies.lock().expect("lock").clear();
        std::mem::take(&mut *self.shared.seen.lock().expect("lock"))
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    shared.seen.lock().expect("lock").push(Seen {
        method,
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers,
        body,
    });
    let reply = shared.replies.lock().expect("lock").pop_front();
    let Some(reply) = reply else {
        let mut resp = Response::new(Body::from("the stand-in had no reply queued"));
        *resp.status_mut() = StatusCode::IM_A_TEAPOT;
        return resp;
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut builder = Response::builder().status(reply.status);
    for (k, v) in &reply.headers {
        builder = builder.header(k, v);
    }
    builder.body(Body::from(reply.body)).expect("valid reply")
}
