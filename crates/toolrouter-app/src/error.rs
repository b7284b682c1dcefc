//! The app layer's public error: a code from the core table and a caller-facing message.

use toolrouter_core::ErrorCode;
use toolrouter_store::StoreError;

/// An error a caller sees. `message` says what was wrong; `suggested_fix` how to fix it;
/// `errors` lists every individual problem when there are several.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    pub suggested_fix: Option<String>,
    pub errors: Vec<String>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> AppError {
        AppError {
            code,
            message: message.into(),
            suggested_fix: None,
            errors: Vec::new(),
        }
    }

    pub fn with_fix(mut self, fix: impl Into<String>) -> AppError {
        self.suggested_fix = Some(fix.into());
        self
    }

    pub fn with_errors(mut self, errors: Vec<String>) -> AppError {
        self.errors = errors;
        self
    }

    pub fn not_found(what: &str, id: &str) -> AppError {
        AppError::new(ErrorCode::NotFound, format!("{what} {id} not found"))
    }

    /// Logs the storage failure with its whole chain and returns a message without internals.
    pub(crate) fn from_store(during: &str, e: &StoreError) -> AppError {
        let mut chain = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(s) = src {
            chain.push_str(": ");
            chain.push_str(&s.to_string());
            src = s.source();
        }
        if e.is_unavailable() {
            tracing::error!(during, error = %chain, "database unavailable");
            AppError::new(
                ErrorCode::StorageUnavailable,
                "The database is unavailable; try again shortly.",
            )
        } else {
            tracing::error!(during, error = %chain, "storage error");
            AppError::new(
                ErrorCode::Internal,
                "Internal error while accessing storage.",
            )
        }
    }
}
