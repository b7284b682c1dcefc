//! Master keys, and authenticated encryption under them.
//!
//! Ciphertext layout: `kid (8 ASCII hex) || nonce (24) || ciphertext+tag`. The key id is the
//! first 4 bytes of SHA-256 of the key, so it is derived, never configured, and a database
//! opened with the wrong master key fails with "key <kid> is not in the keyring" instead of
//! returning garbage.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretBox};
use sha2::{Digest, Sha256};

/// Length of a master key in bytes.
pub const KEY_LEN: usize = 32;
const KID_LEN: usize = 8;
const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("master key: {0}")]
    BadKey(String),
    #[error("master key file {path}: {reason}")]
    KeyFile { path: PathBuf, reason: String },
    #[error(
        "ciphertext was sealed with key {kid}, which is not in the keyring (wrong master key?)"
    )]
    UnknownKey { kid: String },
    #[error("ciphertext is malformed or was tampered with")]
    Corrupt,
    #[error("the system random number generator failed")]
    Random,
}

struct MasterKey {
    kid: String,
    cipher: XChaCha20Poly1305,
    pepper: [u8; 32],
    /// Signs OAuth `state` values (derived, like the pepper, so nothing else is configured).
    state_key: [u8; 32],
}

/// The master keys. The first key seals; every key opens.
pub struct Keyring {
    keys: Vec<MasterKey>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|k| k.kid.as_str()).collect();
        f.debug_struct("Keyring").field("kids", &kids).finish()
    }
}

/// A purpose-bound key derived from a master key.
fn derive(raw: &[u8; KEY_LEN], label: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256>>::new_from_slice(raw).expect("any key length");
    mac.update(label);
    mac.finalize().into_bytes().into()
}

pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], VaultError> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|_| VaultError::Random)?;
    Ok(out)
}

impl Keyring {
    /// Builds a keyring from raw keys, newest (active) first.
    pub fn from_keys(keys: &[SecretBox<[u8; KEY_LEN]>]) -> Result<Keyring, VaultError> {
        if keys.is_empty() {
            return Err(VaultError::BadKey("no key given".into()));
        }
        let keys = keys
            .iter()
            .map(|k| {
                let raw = k.expose_secret();
                let digest = Sha256::digest(raw);
                let kid: String = digest[..KID_LEN / 2]
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                let pepper = derive(raw, b"toolrouter/api-key-pepper/v1");
                let state_key = derive(raw, b"toolrouter/oauth-state/v1");
                MasterKey {
                    kid,
                    cipher: XChaCha20Poly1305::new(raw.into()),
                    pepper,
                    state_key,
                }
            })
            .collect();
        Ok(Keyring { keys })
    }

    /// Parses keys written as base64 (standard alphabet), separated by commas or newlines,
    /// newest first. This is the format of `TOOLROUTER_MASTER_KEY` and of the key file.
    pub fn parse(text: &str) -> Result<Keyring, VaultError> {
        let mut keys = Vec::new();
        for (i, part) in text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .flat_map(|l| l.split(','))
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .enumerate()
        {
            let bytes = STANDARD
                .decode(part)
                .map_err(|_| VaultError::BadKey(format!("key #{} is not valid base64", i + 1)))?;
            let arr: [u8; KEY_LEN] = bytes.try_into().map_err(|b: Vec<u8>| {
                VaultError::BadKey(format!(
                    "key #{} is {} bytes; a master key is {KEY_LEN} bytes of base64",
                    i + 1,
                    b.len()
                ))
            })?;
            keys.push(SecretBox::new(Box::new(arr)));
        }
        Keyring::from_keys(&keys)
    }

    /// Loads the key file, or creates it with one fresh key (mode 0600) when absent.
    /// Returns the keyring and whether the file was created.
    pub fn load_or_create(path: &Path) -> Result<(Keyring, bool), VaultError> {
        let err = |reason: String| VaultError::KeyFile {
            path: path.to_owned(),
            reason,
        };
        match fs::read_to_string(path) {
            Ok(text) => Ok((Keyring::parse(&text)?, false)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key: [u8; KEY_LEN] = random_bytes()?;
                let line = format!(
                    "# toolrouter master key: keep it secret, back it up; losing it loses every stored credential\n{}\n",
                    STANDARD.encode(key)
                );
                write_private(path, line.as_bytes()).map_err(|e| err(e.to_string()))?;
                let ring = Keyring::from_keys(&[SecretBox::new(Box::new(key))])?;
                Ok((ring, true))
            }
            Err(e) => Err(err(e.to_string())),
        }
    }

    /// Puts a fresh key first in the key file, keeping the others (they still open what they
    /// sealed and verify the API keys issued under them). The file is replaced atomically
    /// (written beside it with mode 0600, then renamed), so a crash leaves the old file or the
    /// new one, never half of one. Returns the new keyring.
    pub fn rotate_file(path: &Path) -> Result<Keyring, VaultError> {
        let err = |reason: String| VaultError::KeyFile {
            path: path.to_owned(),
            reason,
        };
        let old = fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        Keyring::parse(&old)?;
        let fresh = Keyring::generate_key_text()?;
        let kept: String = old
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .map(|l| format!("{}\n", l.trim()))
            .collect();
        let text = format!(
            "# toolrouter master keys, newest first: the first seals, all open. Keep older keys\n\
             # until nothing needs them (API keys issued under them verify with them).\n{fresh}\n{kept}"
        );
        let tmp = path.with_extension("rotating");
        let _ = fs::remove_file(&tmp);
        write_private(&tmp, text.as_bytes()).map_err(|e| err(e.to_string()))?;
        fs::rename(&tmp, path).map_err(|e| err(e.to_string()))?;
        Keyring::parse(&text)
    }

    /// Id of the key that seals.
    pub fn active_kid(&self) -> &str {
        &self.keys[0].kid
    }

    /// Encrypts `plaintext` under the active key, binding `aad` (e.g. `"connected_account:ca_1"`).
    pub fn seal(&self, aad: &str, plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
        let key = &self.keys[0];
        let nonce: [u8; NONCE_LEN] = random_bytes()?;
        let ct = key
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| VaultError::Corrupt)?;
        let mut out = Vec::with_capacity(KID_LEN + NONCE_LEN + ct.len());
        out.extend_from_slice(key.kid.as_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Decrypts a [`Keyring::seal`] output sealed with the same `aad`.
    pub fn open(&self, aad: &str, sealed: &[u8]) -> Result<SecretBox<Vec<u8>>, VaultError> {
        if sealed.len() < KID_LEN + NONCE_LEN + 16 {
            return Err(VaultError::Corrupt);
        }
        let (kid, rest) = sealed.split_at(KID_LEN);
        let kid = std::str::from_utf8(kid).map_err(|_| VaultError::Corrupt)?;
        let key =
            self.keys
                .iter()
                .find(|k| k.kid == kid)
                .ok_or_else(|| VaultError::UnknownKey {
                    kid: kid.to_owned(),
                })?;
        let (nonce, ct) = rest.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| VaultError::Corrupt)?;
        let pt = key
            .cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: ct,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| VaultError::Corrupt)?;
        Ok(SecretBox::new(Box::new(pt)))
    }

    /// Key id a ciphertext was sealed with, without decrypting it.
    pub fn sealed_kid(sealed: &[u8]) -> Option<&str> {
        sealed
            .get(..KID_LEN)
            .and_then(|k| std::str::from_utf8(k).ok())
    }

    /// The OAuth-state signing keys of every key, active first.
    pub(crate) fn state_keys(&self) -> impl Iterator<Item = &[u8; 32]> {
        self.keys.iter().map(|k| &k.state_key)
    }

    /// Key ids, active first.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| k.kid.as_str())
    }

    /// A fresh random master key, base64 (the key-file format).
    pub fn generate_key_text() -> Result<String, VaultError> {
        let key: [u8; KEY_LEN] = random_bytes()?;
        Ok(STANDARD.encode(key))
    }

    /// The API-key peppers of every key, active first.
    pub(crate) fn peppers(&self) -> impl Iterator<Item = &[u8; 32]> {
        self.keys.iter().map(|k| &k.pepper)
    }
}

/// Writes a file readable only by its owner, refusing to overwrite.
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(contents)?;
    f.sync_all()
}

/// Writes `contents` to `path` with mode 0600, refusing to overwrite (the api-key file).
pub fn write_secret_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    write_private(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> Keyring {
        Keyring::from_keys(&[SecretBox::new(Box::new([7u8; KEY_LEN]))]).unwrap()
    }

    #[test]
    fn seal_and_open_round_trip_with_matching_aad() {
        let r = ring();
        let sealed = r.seal("accounts:ca_1", b"gho_secret").unwrap();
        assert_eq!(
            r.open("accounts:ca_1", &sealed).unwrap().expose_secret(),
            b"gho_secret"
        );
        assert!(!sealed.windows(10).any(|w| w == b"gho_secret"));
    }

    #[test]
    fn wrong_aad_or_tampering_is_refused() {
        let r = ring();
        let mut sealed = r.seal("a", b"x").unwrap();
        assert!(matches!(r.open("b", &sealed), Err(VaultError::Corrupt)));
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(matches!(r.open("a", &sealed), Err(VaultError::Corrupt)));
    }

    #[test]
    fn wrong_master_key_says_so() {
        let sealed = ring().seal("a", b"x").unwrap();
        let other = Keyring::from_keys(&[SecretBox::new(Box::new([8u8; KEY_LEN]))]).unwrap();
        let err = other.open("a", &sealed).unwrap_err().to_string();
        assert!(err.contains("not in the keyring"), "{err}");
    }

    #[test]
    fn older_keys_still_open_after_rotation() {
        let old = ring();
        let sealed = old.seal("a", b"x").unwrap();
        let rotated = Keyring::parse(&format!(
            "{},{}",
            STANDARD.encode([9u8; KEY_LEN]),
            STANDARD.encode([7u8; KEY_LEN])
        ))
        .unwrap();
        assert_ne!(rotated.active_kid(), old.active_kid());
        assert_eq!(rotated.open("a", &sealed).unwrap().expose_secret(), b"x");
    }

    #[test]
    fn parse_errors_are_clear() {
        let e = Keyring::parse("not base64!").unwrap_err().to_string();
        assert!(e.contains("not valid base64"), "{e}");
        let e = Keyring::parse(&STANDARD.encode([1u8; 5]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("is 5 bytes"), "{e}");
        assert!(Keyring::parse("").is_err());
    }

    #[test]
    fn key_file_is_created_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/master.key");
        let (a, created) = Keyring::load_or_create(&path).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (b, created) = Keyring::load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(a.active_kid(), b.active_kid());
    }

    #[test]
    fn rotating_the_key_file_puts_a_new_key_first_and_keeps_the_old() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let (old, _) = Keyring::load_or_create(&path).unwrap();
        let sealed = old.seal("a", b"x").unwrap();
        let rotated = Keyring::rotate_file(&path).unwrap();
        assert_ne!(rotated.active_kid(), old.active_kid());
        assert_eq!(rotated.kids().nth(1), Some(old.active_kid()));
        assert_eq!(rotated.open("a", &sealed).unwrap().expose_secret(), b"x");
        let (reloaded, created) = Keyring::load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(reloaded.active_kid(), rotated.active_kid());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn debug_shows_key_ids_only() {
        let r = ring();
        let dbg = format!("{r:?}");
        assert_eq!(dbg, format!("Keyring {{ kids: [\"{}\"] }}", r.active_kid()));
    }
}
