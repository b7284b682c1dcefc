//! The hosted connect page: `GET /link/{token}` (a redirect to the provider, or a form),
//! `POST /link/{token}` (the form), and `GET /link/callback` (the OAuth2 redirect URI to
//! register with providers). No API key: the link token is the capability. Pages are HTML;
//! every failure is a page saying what happened, never the JSON envelope.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use http::StatusCode;
use secrecy::SecretString;
use toolrouter_app::auth::connect::{
    CallbackQuery, ConnectFinish, ConnectFinishOrRedirect, ConnectView,
};

use crate::AppState;
use crate::connect_page::{done_page, failure_page, form_page, redirect};
use crate::query::Params;

fn finished(status: StatusCode, finish: ConnectFinish) -> Response {
    match finish {
        ConnectFinish::Redirect(url) => redirect(status, &url),
        ConnectFinish::Done {
            toolkit_name,
            connected,
            reason,
        } => done_page(&toolkit_name, connected, reason.as_deref()),
    }
}

/// `GET /link/{token}`
pub(crate) async fn open(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match state.app.connect_open(&token).await {
        Ok(ConnectView::Redirect(url)) => redirect(StatusCode::FOUND, &url),
        Ok(ConnectView::Form(form)) => form_page(&form),
        Err(e) => failure_page(&e),
    }
}

/// `POST /link/{token}` with `application/x-www-form-urlencoded` fields.
pub(crate) async fn submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let values: BTreeMap<String, SecretString> = form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), SecretString::from(v.into_owned())))
        .collect();
    match state.app.connect_submit(&token, values).await {
        Ok(ConnectFinishOrRedirect::Provider(url)) => redirect(StatusCode::SEE_OTHER, &url),
        Ok(ConnectFinishOrRedirect::Finish(f)) => finished(StatusCode::SEE_OTHER, f),
        Err(e) => failure_page(&e),
    }
}

/// `GET /link/callback?code&state` (or `?error&state`), where providers send the user back.
pub(crate) async fn callback(State(state): State<AppState>, params: Params) -> Response {
    let query = CallbackQuery {
        state: params.get("state").map(str::to_owned),
        code: params.get("code").map(|c| SecretString::from(c.to_owned())),
        error: params.get("error").map(str::to_owned),
    };
    match state.app.connect_callback(query).await {
        Ok(f) => finished(StatusCode::FOUND, f),
        Err(e) => failure_page(&e),
    }
}
