//! Query strings the way the SDKs write them, with failures that name the parameter.
//!
//! The clients differ: arrays arrive comma-joined (`tags=a,b`), repeated (`tags=a&tags=b`) or
//! bracketed (`tags[]=a`); Python sends numbers typed as floats (`limit=20.0`). [`Params`]
//! accepts all of these. Unknown parameters are ignored, as the SDKs send some the server has no
//! use for (`toolkit_versions`, `include_pricing`).

use axum::extract::{FromRequestParts, Query};
use http::request::Parts;
use toolrouter_app::AppError;
use toolrouter_app::page::PageRequest;
use toolrouter_core::ErrorCode;

use crate::ApiError;

/// The query string as name/value pairs, in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        match Query::<Vec<(String, String)>>::try_from_uri(&parts.uri) {
            Ok(Query(pairs)) => Ok(Params(pairs)),
            Err(e) => Err(ApiError(
                AppError::new(
                    ErrorCode::BadRequest,
                    format!("the query string cannot be read: {}", e.body_text()),
                )
                .with_fix("Percent-encode query parameter values as UTF-8."),
            )),
        }
    }
}

fn invalid(name: &str, value: &str, expected: &str) -> ApiError {
    ApiError(
        AppError::new(
            ErrorCode::ValidationFailed,
            format!("query parameter `{name}` must be {expected}, got `{value}`"),
        )
        .with_fix(format!("Send `{name}` as {expected}, or leave it out.")),
    )
}

impl Params {
    /// The last non-empty value of `name`, trimmed.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .find(|v| !v.is_empty())
    }

    /// Every value of `name` (also `name[]`), split at commas, trimmed, empty ones dropped.
    pub(crate) fn list(&self, name: &str) -> Vec<String> {
        let bracketed = format!("{name}[]");
        self.0
            .iter()
            .filter(|(k, _)| *k == name || *k == bracketed)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// `true`/`false` (also `1`/`0`, any case).
    pub(crate) fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        match v.to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(Some(true)),
            "false" | "0" => Ok(Some(false)),
            _ => Err(invalid(name, v, "`true` or `false`")),
        }
    }

    /// A non-negative whole number; `20.0` is read as 20.
    pub(crate) fn whole(&self, name: &str) -> Result<Option<u64>, ApiError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        let digits = v.strip_suffix(".0").unwrap_or(v);
        digits
            .parse::<u64>()
            .map(Some)
            .map_err(|_| invalid(name, v, "a whole number"))
    }

    /// One of `allowed` (any case), returned as spelled in `allowed`.
    pub(crate) fn one_of(
        &self,
        name: &str,
        allowed: &[&'static str],
    ) -> Result<Option<&'static str>, ApiError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        allowed
            .iter()
            .find(|a| a.eq_ignore_ascii_case(v))
            .copied()
            .map(Some)
            .ok_or_else(|| {
                let expected = allowed
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(" or ");
                invalid(name, v, &format!("one of {expected}"))
            })
    }

    /// `limit` and `cursor`.
    pub(crate) fn page(&self) -> Result<PageRequest, ApiError> {
        Ok(PageRequest {
            limit: self.whole("limit")?,
            cursor: self.get("cursor").map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn lists_accept_every_spelling() {
        let p = params(&[
            ("tags", "a, b"),
            ("tags", "c"),
            ("tags[]", "d"),
            ("tags", ""),
        ]);
        assert_eq!(p.list("tags"), ["a", "b", "c", "d"]);
        assert!(p.list("other").is_empty());
    }

    #[test]
    fn numbers_and_booleans_are_lenient_but_never_guessed() {
        let p = params(&[("limit", "20.0"), ("important", "TRUE"), ("bad", "2.5")]);
        assert_eq!(p.whole("limit").unwrap(), Some(20));
        assert_eq!(p.bool("important").unwrap(), Some(true));
        let err = p.whole("bad").unwrap_err().0;
        assert_eq!(
            err.message,
            "query parameter `bad` must be a whole number, got `2.5`"
        );
        let err = params(&[("x", "yes")]).bool("x").unwrap_err().0;
        assert!(err.message.contains("`x`"), "{}", err.message);
    }

    #[test]
    fn enums_name_the_allowed_values() {
        let p = params(&[("sort_by", "Alphabetically"), ("managed_by", "me")]);
        assert_eq!(
            p.one_of("sort_by", &["usage", "alphabetically"]).unwrap(),
            Some("alphabetically")
        );
        let err = p.one_of("managed_by", &["all", "composio"]).unwrap_err().0;
        assert_eq!(
            err.message,
            "query parameter `managed_by` must be one of `all` or `composio`, got `me`"
        );
    }
}
