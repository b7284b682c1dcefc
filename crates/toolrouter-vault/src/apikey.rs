//! API keys: `trk_` followed by 43 base64url characters (256 random bits).
//!
//! Only HMAC-SHA256(pepper, key) is stored. The pepper is derived from each master key, so a
//! database dump alone does not let anyone test guesses, and after a master-key rotation keys
//! issued earlier still verify (every keyring key's pepper is tried; there are one or two).
//! The hash is deterministic, so it can be indexed and looked up directly; the final comparison
//! is still done in constant time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::keyring::{Keyring, VaultError, random_bytes};

/// Every toolrouter API key starts with this.
pub const API_KEY_PREFIX: &str = "trk_";
const DISPLAY_LEN: usize = 12;

/// A keyed hash of an API key.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeyHash(pub [u8; 32]);

impl std::fmt::Debug for ApiKeyHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKeyHash(..)")
    }
}

impl ApiKeyHash {
    /// Constant-time comparison with a stored hash.
    pub fn matches(&self, stored: &[u8]) -> bool {
        stored.len() == 32 && bool::from(self.0.ct_eq(stored))
    }
}

/// A freshly generated key: the plaintext (shown once) and what to store.
#[derive(Debug)]
pub struct NewApiKey {
    pub key: SecretString,
    pub hash: ApiKeyHash,
    pub display_prefix: String,
}

/// The part of a key that is safe to show in listings.
pub fn display_prefix(key: &str) -> String {
    key.chars().take(DISPLAY_LEN).collect()
}

/// Cheap shape check before any hashing or lookup.
pub fn looks_like_api_key(key: &str) -> bool {
    key.len() == API_KEY_PREFIX.len() + 43
        && key.starts_with(API_KEY_PREFIX)
        && key[API_KEY_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn hash_with(pepper: &[u8; 32], key: &str) -> ApiKeyHash {
    let mut mac = <Hmac<Sha256>>::new_from_slice(pepper).expect("any key length");
    mac.update(key.as_bytes());
    ApiKeyHash(mac.finalize().into_bytes().into())
}

impl Keyring {
    /// Generates a new API key and its hash under the active key's pepper.
    pub fn generate_api_key(&self) -> Result<NewApiKey, VaultError> {
        let bytes: [u8; 32] = random_bytes()?;
        let key = format!("{API_KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
        let hash = self.hash_api_key(&key);
        let display_prefix = display_prefix(&key);
        Ok(NewApiKey {
            key: SecretString::from(key),
            hash,
            display_prefix,
        })
    }

    /// The hash a key is stored under when issued now.
    pub fn hash_api_key(&self, key: &str) -> ApiKeyHash {
        hash_with(self.peppers().next().expect("keyring is never empty"), key)
    }

    /// Every hash the key may be stored under (one per master key, active first).
    pub fn candidate_hashes(&self, key: &SecretString) -> Vec<ApiKeyHash> {
        self.peppers()
            .map(|p| hash_with(p, key.expose_secret()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretBox;

    fn ring(byte: u8) -> Keyring {
        Keyring::from_keys(&[SecretBox::new(Box::new([byte; 32]))]).unwrap()
    }

    #[test]
    fn generated_keys_have_the_documented_shape() {
        let k = ring(1).generate_api_key().unwrap();
        let text = k.key.expose_secret();
        assert!(looks_like_api_key(text), "{text}");
        assert_eq!(k.display_prefix, &text[..12]);
        assert!(!looks_like_api_key("trk_short"));
        assert!(!looks_like_api_key(&text.replace("trk_", "sk__")));
    }

    #[test]
    fn hash_depends_on_the_master_key_and_matches_in_constant_time() {
        let k = ring(1).generate_api_key().unwrap();
        let again = ring(1).hash_api_key(k.key.expose_secret());
        assert!(again.matches(&k.hash.0));
        let other = ring(2).hash_api_key(k.key.expose_secret());
        assert!(!other.matches(&k.hash.0));
        assert!(!again.matches(&k.hash.0[..31]));
    }

    #[test]
    fn debug_never_shows_key_material() {
        let k = ring(1).generate_api_key().unwrap();
        let dbg = format!("{k:?}");
        assert!(!dbg.contains(&k.key.expose_secret()[4..]), "{dbg}");
    }
}
