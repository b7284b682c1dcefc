//! Projects and API keys: first-start bootstrap, authentication, and key management.
//!
//! Authentication hashes the presented key under every master key's pepper, looks the hash up
//! (cache first), and compares in constant time. Unknown and revoked keys get the same answer,
//! so a caller cannot tell one from the other.

use secrecy::SecretString;
use toolrouter_core::{ApiKeyId, ApiKeyRecord, ErrorCode, Project, ProjectId, Timestamp};
use toolrouter_store::Bootstrap;
use toolrouter_vault::{VaultError, looks_like_api_key};

use crate::{App, AppError, AppResult, Caller};

/// What the first start created: printed once, written to `<data-dir>/api-key`.
#[derive(Debug)]
pub struct BootstrapOutcome {
    pub project: Project,
    pub key: IssuedKey,
}

/// A key just issued: the record and the plaintext, which exists only now.
#[derive(Debug)]
pub struct IssuedKey {
    pub record: ApiKeyRecord,
    pub key: SecretString,
}

fn vault_error(e: &VaultError) -> AppError {
    tracing::error!(error = %e, "vault failure");
    AppError::new(
        ErrorCode::Internal,
        "Internal error while generating a key.",
    )
}

fn invalid_key() -> AppError {
    AppError::new(ErrorCode::InvalidApiKey, "The API key is invalid or has been revoked.")
        .with_fix("Send a valid toolrouter API key in the x-api-key header (`toolrouter keys create` issues one).")
}

const MAX_NAME_LEN: usize = 100;

fn check_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
        return Err(AppError::new(
            ErrorCode::ValidationFailed,
            format!("`name` must be 1 to {MAX_NAME_LEN} characters"),
        ));
    }
    Ok(name.to_owned())
}

impl App {
    fn issue(&self, project: &ProjectId, name: &str) -> AppResult<IssuedKey> {
        let fresh = self
            .inner
            .keyring
            .generate_api_key()
            .map_err(|e| vault_error(&e))?;
        Ok(IssuedKey {
            record: ApiKeyRecord {
                id: ApiKeyId::generate(),
                project_id: project.clone(),
                name: name.to_owned(),
                display_prefix: fresh.display_prefix,
                hash: fresh.hash.0.to_vec(),
                created_at: Timestamp::now(),
                revoked_at: None,
            },
            key: fresh.key,
        })
    }

    /// On an empty database, creates the default project and its first key. Returns `None`
    /// when the database was bootstrapped before (by this or another server).
    pub async fn bootstrap(&self) -> AppResult<Option<BootstrapOutcome>> {
        let project = Project {
            id: ProjectId::generate(),
            name: "default".to_owned(),
            created_at: Timestamp::now(),
        };
        let key = self.issue(&project.id, "default")?;
        let boot = Bootstrap {
            project: project.clone(),
            key: key.record.clone(),
        };
        let created = self
            .store()
            .bootstrap(&boot)
            .await
            .map_err(|e| AppError::from_store("bootstrap", &e))?;
        Ok(created.then_some(BootstrapOutcome { project, key }))
    }

    /// Resolves an `x-api-key` header value to its caller.
    pub async fn authenticate(&self, presented: Option<&str>) -> AppResult<Caller> {
        let Some(presented) = presented.map(str::trim).filter(|k| !k.is_empty()) else {
            return Err(
                AppError::new(ErrorCode::MissingApiKey, "No API key was sent.")
                    .with_fix("Send your toolrouter API key in the x-api-key header."),
            );
        };
        if !looks_like_api_key(presented) {
            return Err(invalid_key());
        }
        let presented = SecretString::from(presented.to_owned());
        let candidates = self.inner.keyring.candidate_hashes(&presented);
        for hash in &candidates {
            if let Some(caller) = self.inner.key_cache.get(&hash.0) {
                return Ok(caller);
            }
        }
        let raw: Vec<[u8; 32]> = candidates.iter().map(|h| h.0).collect();
        let record = self
            .store()
            .api_key_find_by_hash(&raw)
            .await
            .map_err(|e| AppError::from_store("authenticate", &e))?;
        let Some(record) = record else {
            return Err(invalid_key());
        };
        let Some(hash) = candidates.iter().find(|h| h.matches(&record.hash)) else {
            return Err(invalid_key());
        };
        if !record.is_active() {
            return Err(invalid_key());
        }
        let caller = Caller {
            project_id: record.project_id,
            key_id: record.id,
        };
        self.inner.key_cache.insert(hash.0, caller.clone());
        Ok(caller)
    }

    /// The caller's project.
    pub async fn project_current(&self, caller: &Caller) -> AppResult<Project> {
        self.store()
            .project_get(&caller.project_id)
            .await
            .map_err(|e| AppError::from_store("project_get", &e))?
            .ok_or_else(|| AppError::not_found("project", caller.project_id.as_str()))
    }

    /// Every project (operator CLI).
    pub async fn project_list(&self) -> AppResult<Vec<Project>> {
        self.store()
            .project_list()
            .await
            .map_err(|e| AppError::from_store("project_list", &e))
    }

    /// Issues a key in a project. The plaintext is returned once and never stored.
    pub async fn api_key_create(&self, project: &ProjectId, name: &str) -> AppResult<IssuedKey> {
        let name = check_name(name)?;
        if self
            .store()
            .project_get(project)
            .await
            .map_err(|e| AppError::from_store("project_get", &e))?
            .is_none()
        {
            return Err(AppError::not_found("project", project.as_str()));
        }
        let issued = self.issue(project, &name)?;
        self.store()
            .api_key_insert(&issued.record)
            .await
            .map_err(|e| AppError::from_store("api_key_insert", &e))?;
        tracing::info!(project = %project, key_id = %issued.record.id, "api key issued");
        Ok(issued)
    }

    /// A project's keys (metadata only).
    pub async fn api_key_list(&self, project: &ProjectId) -> AppResult<Vec<ApiKeyRecord>> {
        self.store()
            .api_key_list(project)
            .await
            .map_err(|e| AppError::from_store("api_key_list", &e))
    }

    /// Revokes a key of this project. Another project's key id is "not found".
    pub async fn api_key_revoke(&self, project: &ProjectId, id: &str) -> AppResult<()> {
        let not_found = || AppError::not_found("API key", id);
        let id = ApiKeyId::parse(id).ok_or_else(not_found)?;
        let done = self
            .store()
            .api_key_revoke(project, &id, Timestamp::now())
            .await
            .map_err(|e| AppError::from_store("api_key_revoke", &e))?;
        if !done {
            return Err(not_found());
        }
        // Drop it from this process's cache at once (other processes within the TTL).
        self.inner
            .key_cache
            .invalidate_entries_if(move |_, caller| caller.key_id == id)
            .map_err(|_| AppError::new(ErrorCode::Internal, "Internal error while revoking."))?;
        self.inner.key_cache.run_pending_tasks();
        tracing::info!(project = %project, "api key revoked");
        Ok(())
    }
}
