//! Authentication settings: the configuration's `public_url`, `callback_urls`,
//! `outbound_allow` and `[managed_auth.<toolkit>]` tables turned into the app's plain structs.
//!
//! Managed OAuth apps name their client secret indirectly (`client_secret_env` or
//! `client_secret_file`) so the secret never sits in the configuration file; it is read here,
//! once, and handed on as a `SecretString`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use secrecy::SecretString;
use serde::Deserialize;
use toolrouter_app::{AppConfig, AuthSettings, ManagedApp};
use toolrouter_exec::{ExecutorConfig, IpNet, OutboundPolicy};

use crate::config::Settings;

/// `[managed_auth.<toolkit>]` in the configuration file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ManagedAuthEntry {
    pub(crate) client_id: String,
    /// Environment variable holding the client secret.
    #[serde(default)]
    pub(crate) client_secret_env: Option<String>,
    /// File holding the client secret (trailing whitespace ignored).
    #[serde(default)]
    pub(crate) client_secret_file: Option<PathBuf>,
    /// Scopes to request instead of the toolkit's defaults.
    #[serde(default)]
    pub(crate) scopes: Option<Vec<String>>,
}

fn client_secret(toolkit: &str, e: &ManagedAuthEntry) -> anyhow::Result<Option<SecretString>> {
    match (&e.client_secret_env, &e.client_secret_file) {
        (Some(_), Some(_)) => {
            bail!("managed_auth.{toolkit}: give client_secret_env or client_secret_file, not both")
        }
        (Some(var), None) => {
            let value = std::env::var(var).map_err(|_| {
                anyhow::anyhow!(
                    "managed_auth.{toolkit}.client_secret_env names `{var}`, which is not set"
                )
            })?;
            Ok(Some(SecretString::from(value)))
        }
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).with_context(|| {
                format!(
                    "managed_auth.{toolkit}.client_secret_file: cannot read {}",
                    path.display()
                )
            })?;
            Ok(Some(SecretString::from(text.trim_end().to_owned())))
        }
        // A public client (PKCE only).
        (None, None) => Ok(None),
    }
}

/// Which private destinations may be reached: host names, IPs or CIDR networks. `key` names
/// the setting in error messages (`outbound_allow` for tool calls, `workbench_egress_allow`
/// for the workbench's egress proxy).
pub(crate) fn outbound_policy(key: &str, entries: &[String]) -> anyhow::Result<OutboundPolicy> {
    let mut policy = OutboundPolicy::public_only();
    for e in entries {
        let e = e.trim();
        if e.is_empty() {
            continue;
        }
        if e.contains('/') || e.parse::<std::net::IpAddr>().is_ok() {
            let net: IpNet = e
                .parse()
                .map_err(|_| anyhow::anyhow!("{key}: `{e}` is not an IP network"))?;
            policy = policy.allow_net(net);
        } else {
            policy = policy.allow_host(e);
        }
    }
    Ok(policy)
}

/// The app's configuration. `bound` is the address the server listens on, which the default
/// public URL (`http(s)://<listen address>`) is made of.
pub(crate) fn app_config(s: &Settings, bound: Option<SocketAddr>) -> anyhow::Result<AppConfig> {
    let mut managed_apps = BTreeMap::new();
    for (toolkit, entry) in &s.managed_auth {
        if entry.client_id.trim().is_empty() {
            bail!("managed_auth.{toolkit}.client_id is empty");
        }
        managed_apps.insert(
            toolkit.clone(),
            ManagedApp {
                client_id: entry.client_id.trim().to_owned(),
                client_secret: client_secret(toolkit, entry)?,
                scopes: entry.scopes.clone(),
            },
        );
    }
    let scheme = if s.tls.is_some() { "https" } else { "http" };
    let public_url = match &s.public_url {
        Some(u) => {
            let u = u.trim().trim_end_matches('/');
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                bail!("public_url `{u}` must start with http:// or https://");
            }
            u.to_owned()
        }
        None => format!("{scheme}://{}", bound.unwrap_or(s.listen)),
    };
    for u in &s.callback_urls {
        if !(u.starts_with("http://") || u.starts_with("https://")) {
            bail!("callback_urls: `{u}` must be an absolute http(s) URL");
        }
    }
    let defaults = AuthSettings::default();
    Ok(AppConfig {
        auth: AuthSettings {
            public_url,
            managed_apps,
            callback_urls: s.callback_urls.clone(),
            ..defaults
        },
        exec: ExecutorConfig {
            policy: outbound_policy("outbound_allow", &s.outbound_allow)?,
            ..ExecutorConfig::default()
        },
        files_root: s.files_root(),
        large_result_bytes: s.large_result_bytes,
        ..AppConfig::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbound_entries_are_hosts_or_networks() {
        assert!(
            outbound_policy(
                "outbound_allow",
                &[
                    "127.0.0.1".into(),
                    "10.0.0.0/8".into(),
                    "stand-in.test".into()
                ]
            )
            .is_ok()
        );
        let err = outbound_policy("outbound_allow", &["10.0.0.0/99".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("`10.0.0.0/99` is not an IP network"), "{err}");
    }

    #[test]
    fn managed_secrets_come_from_the_environment_or_a_file_never_the_config() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret");
        std::fs::write(&file, "s3cr3t\n").unwrap();
        let entry = ManagedAuthEntry {
            client_id: "cid".into(),
            client_secret_file: Some(file),
            ..ManagedAuthEntry::default()
        };
        let secret = client_secret("github", &entry).unwrap().unwrap();
        assert_eq!(secrecy::ExposeSecret::expose_secret(&secret), "s3cr3t");
        let missing = ManagedAuthEntry {
            client_id: "cid".into(),
            client_secret_env: Some("TR_TEST_SURELY_UNSET_CLIENT_SECRET".into()),
            ..ManagedAuthEntry::default()
        };
        let err = client_secret("github", &missing).unwrap_err().to_string();
        assert!(
            err.contains("`TR_TEST_SURELY_UNSET_CLIENT_SECRET`, which is not set"),
            "{err}"
        );
    }
}
