//! Extractors that turn request parts into app-level values or precise errors: the
//! authenticated [`Caller`] from `x-api-key`, and JSON bodies whose failures name the problem
//! and where it is.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use http::request::Parts;
use serde::de::DeserializeOwned;
use toolrouter_app::{AppError, Caller};
use toolrouter_core::ErrorCode;

use crate::{API_KEY_HEADER, ApiError, AppState};

/// The authenticated caller. Every `/api/v3.1` handler takes one, so a route cannot forget auth.
#[derive(Debug, Clone)]
pub(crate) struct Auth(pub Caller);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = parts
            .headers
            .get(API_KEY_HEADER)
            .map(|v| v.to_str().unwrap_or("\u{0}"));
        Ok(Auth(state.app.authenticate(key).await?))
    }
}

/// A JSON body. Unlike `axum::Json`, every failure is the error envelope with a message saying
/// what is wrong and where (the JSON path and position).
#[derive(Debug)]
pub(crate) struct Body<T>(pub T);

impl<T, S> FromRequest<S> for Body<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Body(v)),
            Err(rejection) => Err(ApiError(json_error(&rejection))),
        }
    }
}

fn json_error(rejection: &JsonRejection) -> AppError {
    match rejection {
        JsonRejection::JsonDataError(e) => AppError::new(
            ErrorCode::ValidationFailed,
            format!("Invalid request body: {}", inner_message(&e.body_text())),
        )
        .with_fix("Check the field named in the message against the API reference."),
        JsonRejection::JsonSyntaxError(e) => AppError::new(
            ErrorCode::InvalidJson,
            format!("Malformed JSON: {}", inner_message(&e.body_text())),
        )
        .with_fix("Send a well-formed JSON object."),
        JsonRejection::MissingJsonContentType(_) => AppError::new(
            ErrorCode::UnsupportedMediaType,
            "The request body must be JSON.",
        )
        .with_fix("Send `content-type: application/json`."),
        JsonRejection::BytesRejection(_) => AppError::new(
            ErrorCode::PayloadTooLarge,
            "The request body could not be read (too large or interrupted).",
        ),
        _ => AppError::new(ErrorCode::BadRequest, rejection.body_text()),
    }
}

/// axum prefixes its own sentence; keep only serde's precise part (path, what, line/column).
fn inner_message(text: &str) -> &str {
    text.split_once(": ").map_or(text, |(_, rest)| rest)
}

#[cfg(test)]
mod tests {
    use super::inner_message;

    #[test]
    fn keeps_serde_detail() {
        assert_eq!(
            inner_message(
                "Failed to deserialize the JSON body into the target type: name: invalid type: integer `1`, expected a string at line 1 column 9"
            ),
            "name: invalid type: integer `1`, expected a string at line 1 column 9"
        );
    }
}
