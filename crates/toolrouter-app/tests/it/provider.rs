//! A local stand-in for an OAuth2 authorization server and the API it protects: enough of RFC
//! 6749 + PKCE to test toolrouter's side of the flow, and counters to check exactly how often
//! toolrouter called the token endpoint.
//!
//! - `POST /token`: `authorization_code` (checks client credentials, redirect URI and the S256
//!   PKCE verifier) and `refresh_token` (rotating: a refresh token works once).
//! - `GET /api/whoami`: 200 with a valid bearer token, else 401.
//! - [`Provider::authorize`] stands in for the user's login and consent: it issues a code for
//!   the parameters of an authorize URL, as the provider's own page would.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use sha2::{Digest, Sha256};

pub(crate) const CLIENT_ID: &str = "toolrouter-test-client";

#[derive(Debug, Default)]
struct Shared {
    client_secret: String,
    /// code → (challenge, redirect_uri)
    codes: Mutex<HashMap<String, (String, String)>>,
    refresh_tokens: Mutex<HashSet<String>>,
    access_tokens: Mutex<HashSet<String>>,
    issued: AtomicU32,
    code_requests: AtomicU32,
    refresh_requests: AtomicU32,
    /// `expires_in` of tokens from a code exchange.
    first_expires_in: AtomicU32,
    /// Refuse every refresh with `invalid_grant`.
    refuse_refresh: Mutex<bool>,
    /// Time a refresh takes (widens the window for concurrent callers).
    refresh_delay_ms: AtomicU32,
    api_calls: AtomicU32,
    /// Every token and code this provider ever handed out (for leak scans).
    handed_out: Mutex<Vec<String>>,
}

/// A running provider on 127.0.0.1:0; stops when dropped.
#[derive(Debug)]
pub(crate) struct Provider {
    pub(crate) addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn form(body: &[u8]) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn oauth_error(status: StatusCode, code: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": code, "error_description": "refused by the test provider"})),
    )
        .into_response()
}

async fn token(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    let f = form(&body);
    if f.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || f.get("client_secret") != Some(&s.client_secret)
    {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let expires_in = match f.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            s.code_requests.fetch_add(1, Ordering::SeqCst);
            let code = f.get("code").cloned().unwrap_or_default();
            let Some((challenge, redirect_uri)) = s.codes.lock().unwrap().remove(&code) else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            };
            let verifier = f.get("code_verifier").cloned().unwrap_or_default();
            let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if computed != challenge || f.get("redirect_uri") != Some(&redirect_uri) {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            s.first_expires_in.load(Ordering::SeqCst)
        }
        Some("refresh_token") => {
            s.refresh_requests.fetch_add(1, Ordering::SeqCst);
            let delay = s.refresh_delay_ms.load(Ordering::SeqCst);
            if delay > 0 {
                tokio::time::sleep(Duration::from_millis(u64::from(delay))).await;
            }
            if *s.refuse_refresh.lock().unwrap() {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            let rt = f.get("refresh_token").cloned().unwrap_or_default();
            // Rotating refresh tokens: each works once.
            if !s.refresh_tokens.lock().unwrap().remove(&rt) {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            3600
        }
        _ => return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    };
    let n = s.issued.fetch_add(1, Ordering::SeqCst);
    let access = format!("prov_at_{n}_{}", uuid::Uuid::new_v4().simple());
    let refresh = format!("prov_rt_{n}_{}", uuid::Uuid::new_v4().simple());
    s.access_tokens.lock().unwrap().insert(access.clone());
    s.refresh_tokens.lock().unwrap().insert(refresh.clone());
    s.handed_out
        .lock()
        .unwrap()
        .extend([access.clone(), refresh.clone()]);
    axum::Json(json!({
        "access_token": access, "token_type": "bearer", "expires_in": expires_in,
        "refresh_token": refresh, "scope": "read"
    }))
    .into_response()
}

async fn whoami(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    s.api_calls.fetch_add(1, Ordering::SeqCst);
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if s.access_tokens.lock().unwrap().contains(token) {
        axum::Json(
            json!({"login": "octo", "token_suffix": &token[token.len().saturating_sub(4)..]}),
        )
        .into_response()
    } else {
        (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"message": "Bad credentials"})),
        )
            .into_response()
    }
}

impl Provider {
    pub(crate) async fn start(client_secret: &str) -> Provider {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            client_secret: client_secret.to_owned(),
            first_expires_in: AtomicU32::new(3600),
            ..Shared::default()
        });
        let app = Router::new()
            .route("/token", post(token))
            .route("/api/whoami", get(whoami))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Provider { addr, shared, task }
    }

    pub(crate) fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The user logs in and consents: a code for this authorize URL's challenge and redirect
    /// URI. Returns the code and the state to send back.
    pub(crate) fn authorize(&self, authorize_url: &str) -> (String, String) {
        let url = url::Url::parse(authorize_url).unwrap();
        let q: BTreeMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(q["client_id"], CLIENT_ID);
        assert_eq!(q["response_type"], "code");
        assert_eq!(
            q["code_challenge_method"], "S256",
            "PKCE S256 is always sent"
        );
        let code = format!("code_{}", uuid::Uuid::new_v4().simple());
        self.shared.handed_out.lock().unwrap().push(code.clone());
        self.shared.codes.lock().unwrap().insert(
            code.clone(),
            (q["code_challenge"].clone(), q["redirect_uri"].clone()),
        );
        (code, q["state"].clone())
    }

    pub(crate) fn code_requests(&self) -> u32 {
        self.shared.code_requests.load(Ordering::SeqCst)
    }

    pub(crate) fn refresh_requests(&self) -> u32 {
        self.shared.refresh_requests.load(Ordering::SeqCst)
    }

    pub(crate) fn api_calls(&self) -> u32 {
        self.shared.api_calls.load(Ordering::SeqCst)
    }

    pub(crate) fn set_first_expires_in(&self, secs: u32) {
        self.shared.first_expires_in.store(secs, Ordering::SeqCst);
    }

    pub(crate) fn set_refresh_delay(&self, ms: u32) {
        self.shared.refresh_delay_ms.store(ms, Ordering::SeqCst);
    }

    pub(crate) fn refuse_refresh(&self, refuse: bool) {
        *self.shared.refuse_refresh.lock().unwrap() = refuse;
    }

    /// Every token and authorization code handed out so far.
    pub(crate) fn handed_out(&self) -> Vec<String> {
        self.shared.handed_out.lock().unwrap().clone()
    }

    /// The API also accepts this bearer token (an API key typed into a connect form).
    pub(crate) fn accept_token(&self, token: &str) {
        self.shared
            .access_tokens
            .lock()
            .unwrap()
            .insert(token.to_owned());
    }

    /// The API forgets every access token issued so far (as after a revocation).
    pub(crate) fn revoke_access_tokens(&self) {
        self.shared.access_tokens.lock().unwrap().clear();
    }
}
