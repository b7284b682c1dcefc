//! The master key and the database, together: the start-up check that they belong together,
//! and re-encryption of every stored secret under the newest key (`toolrouter vault
//! rotate-key`).
//!
//! The check opens a canary sealed on first start (`server_meta.vault_canary`), so a server
//! given the wrong master key stops at once with a clear message instead of failing on the
//! first credential it reads. Re-encryption replaces each value only if it is still the one
//! that was read, so a token refreshed meanwhile is never overwritten with an older one.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use toolrouter_core::ErrorCode;
use toolrouter_store::SealedColumn;
use toolrouter_vault::{Keyring, VaultError};

use crate::{App, AppError, AppResult};

const CANARY_KEY: &str = "vault_canary";
const CANARY_AAD: &str = "server_meta:vault_canary";
const CANARY_TEXT: &[u8] = b"toolrouter vault canary v1";

/// What a re-encryption did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reencrypted {
    /// Values now sealed under the active key.
    pub rewritten: usize,
    /// Values already under the active key.
    pub current: usize,
    /// Values changed by someone else while this ran (they are sealed under whatever key the
    /// writer had; run again after restarting servers).
    pub skipped: usize,
}

fn mismatch(e: &VaultError) -> AppError {
    let message = match e {
        VaultError::UnknownKey { kid } => format!(
            "the master key does not match this database: its data was sealed with key {kid}, which is not in the keyring"
        ),
        _ => "the master key does not match this database: the stored check value does not decrypt"
            .to_owned(),
    };
    AppError::new(ErrorCode::Internal, message).with_fix(
        "Start the server with the master key (TOOLROUTER_MASTER_KEY or the key file) this database was created with.",
    )
}

impl App {
    /// Checks that the keyring opens this database's secrets; on a fresh database, seals the
    /// canary that later starts check.
    pub async fn check_master_key(&self) -> AppResult<()> {
        let stored = self
            .store()
            .meta_get(CANARY_KEY)
            .await
            .map_err(|e| AppError::from_store("meta_get", &e))?;
        let keyring: &Keyring = &self.inner.keyring;
        match stored {
            Some(text) => {
                let sealed = STANDARD
                    .decode(text.trim())
                    .map_err(|_| mismatch(&VaultError::Corrupt))?;
                let opened = keyring
                    .open(CANARY_AAD, &sealed)
                    .map_err(|e| mismatch(&e))?;
                if secrecy::ExposeSecret::expose_secret(&opened).as_slice() != CANARY_TEXT {
                    return Err(mismatch(&VaultError::Corrupt));
                }
                Ok(())
            }
            None => self.seal_canary().await,
        }
    }

    async fn seal_canary(&self) -> AppResult<()> {
        let sealed = self
            .inner
            .keyring
            .seal(CANARY_AAD, CANARY_TEXT)
            .map_err(|e| crate::auth::vault_failure("seal canary", &e))?;
        self.store()
            .meta_set(CANARY_KEY, &STANDARD.encode(sealed))
            .await
            .map_err(|e| AppError::from_store("meta_set", &e))
    }

    /// Seals every stored secret (auth configs, connected accounts, pending OAuth states, the
    /// canary) under the keyring's active key.
    pub async fn reencrypt_all(&self) -> AppResult<Reencrypted> {
        let keyring: &Keyring = &self.inner.keyring;
        let active = keyring.active_kid().to_owned();
        let mut report = Reencrypted::default();
        for column in SealedColumn::ALL {
            let values = self
                .store()
                .sealed_list(column)
                .await
                .map_err(|e| AppError::from_store("sealed_list", &e))?;
            for (id, old) in values {
                if Keyring::sealed_kid(&old) == Some(active.as_str()) {
                    report.current += 1;
                    continue;
                }
                let aad = column.aad(&id);
                let plain = keyring
                    .open(&aad, &old)
                    .map_err(|e| crate::auth::vault_failure("re-encrypt", &e))?;
                let new = keyring
                    .seal(&aad, secrecy::ExposeSecret::expose_secret(&plain))
                    .map_err(|e| crate::auth::vault_failure("re-encrypt", &e))?;
                let replaced = self
                    .store()
                    .sealed_replace(column, &id, &old, &new)
                    .await
                    .map_err(|e| AppError::from_store("sealed_replace", &e))?;
                if replaced {
                    report.rewritten += 1;
                } else {
                    report.skipped += 1;
                }
            }
        }
        self.check_master_key().await?;
        self.seal_canary().await?;
        tracing::info!(kid = %active, rewritten = report.rewritten, current = report.current, skipped = report.skipped, "secrets re-encrypted");
        Ok(report)
    }
}
