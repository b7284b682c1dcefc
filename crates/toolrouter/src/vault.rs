//! `toolrouter vault rotate-key`: a new master key, first in the key file, and every stored
//! secret re-encrypted under it.
//!
//! Order matters for crash safety: the key file is rewritten first (atomically, the new key
//! added and the old ones kept), then the data is re-encrypted, so at every moment every stored
//! value opens with the keys in the file. Old keys stay: API keys are stored as hashes under a
//! pepper derived from the master key they were issued under, so dropping an old key would
//! invalidate them (issue new API keys and revoke the old ones before removing it). Servers
//! running during a rotation cannot read values sealed under the new key until they restart.

use anyhow::{Context, bail};
use clap::Subcommand;
use toolrouter_vault::Keyring;

use crate::config::Settings;
use crate::{open_app_with_keyring, out};

#[derive(Debug, Subcommand)]
pub(crate) enum VaultCommand {
    /// Add a new master key (first in the key file) and re-encrypt every stored secret under
    /// it. Restart running servers afterwards.
    RotateKey,
    /// Re-encrypt every stored secret under the active (first) key, e.g. after putting a new
    /// key first in TOOLROUTER_MASTER_KEY.
    Reencrypt,
}

pub(crate) async fn run(s: &Settings, cmd: VaultCommand) -> anyhow::Result<()> {
    match cmd {
        VaultCommand::RotateKey => rotate(s).await,
        VaultCommand::Reencrypt => {
            let app = crate::open_app(s, true).await?;
            let report = app.reencrypt_all().await?;
            out(&format!(
                "re-encrypted {} secret(s) under the active key, {} already current, {} changed meanwhile",
                report.rewritten, report.current, report.skipped
            ));
            Ok(())
        }
    }
}

async fn rotate(s: &Settings) -> anyhow::Result<()> {
    if std::env::var_os("TOOLROUTER_MASTER_KEY").is_some() {
        bail!(
            "TOOLROUTER_MASTER_KEY is set, and this command rotates a key file: put a new key \
             (`head -c 32 /dev/urandom | base64`) first in TOOLROUTER_MASTER_KEY, keeping the old \
             ones after it separated by commas, then run `toolrouter vault reencrypt`"
        );
    }
    if !s.master_key_file.exists() {
        bail!(
            "no master key file at {}: nothing to rotate",
            s.master_key_file.display()
        );
    }
    let before = Keyring::load_or_create(&s.master_key_file)
        .map(|(k, _)| k)
        .context("cannot read the master key file")?;
    // The database must open with the current keys before anything changes (opening checks).
    open_app_with_keyring(s, before).await?;
    let ring =
        Keyring::rotate_file(&s.master_key_file).context("cannot rewrite the master key file")?;
    let kid = ring.active_kid().to_owned();
    let kept: Vec<String> = ring.kids().skip(1).map(str::to_owned).collect();
    let app = open_app_with_keyring(s, ring).await?;
    let report = app.reencrypt_all().await?;
    out(&format!(
        "new master key {kid} is active ({}); re-encrypted {} secret(s), {} already current, {} changed meanwhile\n\
         older key(s) kept for API keys issued under them: {}\n\
         restart running servers so they load the new key",
        s.master_key_file.display(),
        report.rewritten,
        report.current,
        report.skipped,
        if kept.is_empty() {
            "none".to_owned()
        } else {
            kept.join(", ")
        },
    ));
    Ok(())
}
