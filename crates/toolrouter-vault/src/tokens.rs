//! Opaque tokens that travel through browsers, and sealed credential sets.
//!
//! - Link tokens (`lk_…`, 256 random bits) open the hosted connect page. Only their SHA-256 is
//!   stored, so a database dump does not hand out working links.
//! - OAuth `state` values are `<nonce>.<tag>`: 256 random bits and an HMAC under a key derived
//!   from the master key. A tampered state is refused before any lookup; the nonce's SHA-256 is
//!   the id of the stored, single-use, expiring record that carries the PKCE verifier.
//! - [`SecretFields`] is a set of named secret values (tokens, keys, passwords, a client
//!   secret), sealed as one JSON object so each row has one ciphertext.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::keyring::{Keyring, VaultError, random_bytes};

/// Prefix of connect-link tokens.
pub const LINK_TOKEN_PREFIX: &str = "lk_";
const TAG_LEN: usize = 16;

/// A freshly generated opaque token and the hash it is stored under.
#[derive(Debug)]
pub struct OpaqueToken {
    pub token: SecretString,
    pub hash: [u8; 32],
}

/// SHA-256 of a token, the form it is stored and looked up in.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A new connect-link token.
pub fn new_link_token() -> Result<OpaqueToken, VaultError> {
    let bytes: [u8; 32] = random_bytes()?;
    let token = format!("{LINK_TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = token_hash(&token);
    Ok(OpaqueToken {
        token: SecretString::from(token),
        hash,
    })
}

/// Cheap shape check before a lookup.
pub fn looks_like_link_token(token: &str) -> bool {
    token.len() == LINK_TOKEN_PREFIX.len() + 43
        && token.starts_with(LINK_TOKEN_PREFIX)
        && token[LINK_TOKEN_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn tag(key: &[u8; 32], nonce: &[u8]) -> [u8; TAG_LEN] {
    let mut mac = <Hmac<Sha256>>::new_from_slice(key).expect("any key length");
    mac.update(nonce);
    let full: [u8; 32] = mac.finalize().into_bytes().into();
    let mut out = [0u8; TAG_LEN];
    out.copy_from_slice(&full[..TAG_LEN]);
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new OAuth state: the value for the provider's `state` parameter, and the id of the record
/// that stores what goes with it.
#[derive(Debug)]
pub struct NewState {
    pub state: SecretString,
    pub id: String,
}

impl Keyring {
    /// Creates a signed OAuth state.
    pub fn new_oauth_state(&self) -> Result<NewState, VaultError> {
        let nonce: [u8; 32] = random_bytes()?;
        let key = self.state_keys().next().expect("keyring is never empty");
        let state = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(nonce),
            URL_SAFE_NO_PAD.encode(tag(key, &nonce))
        );
        Ok(NewState {
            state: SecretString::from(state),
            id: hex(&Sha256::digest(nonce)),
        })
    }

    /// The record id of a state this server signed (under any key of the keyring), or `None`
    /// when it is malformed or its signature does not verify.
    pub fn verify_oauth_state(&self, state: &str) -> Option<String> {
        let (nonce, given) = state.split_once('.')?;
        let nonce = URL_SAFE_NO_PAD.decode(nonce).ok()?;
        let given = URL_SAFE_NO_PAD.decode(given).ok()?;
        if nonce.len() != 32 || given.len() != TAG_LEN {
            return None;
        }
        let valid = self
            .state_keys()
            .any(|k| bool::from(tag(k, &nonce).ct_eq(&given)));
        valid.then(|| hex(&Sha256::digest(&nonce)))
    }

    /// Seals a set of secret values under `aad`.
    pub fn seal_fields(&self, aad: &str, fields: &SecretFields) -> Result<Vec<u8>, VaultError> {
        let exposed: BTreeMap<&str, &str> = fields
            .0
            .iter()
            .map(|(k, v)| (k.as_str(), v.expose_secret()))
            .collect();
        let plain = SecretBox::new(Box::new(
            serde_json::to_vec(&exposed).map_err(|_| VaultError::Corrupt)?,
        ));
        self.seal(aad, plain.expose_secret())
    }

    /// Opens a [`Keyring::seal_fields`] output.
    pub fn open_fields(&self, aad: &str, sealed: &[u8]) -> Result<SecretFields, VaultError> {
        let plain = self.open(aad, sealed)?;
        let map: BTreeMap<String, String> =
            serde_json::from_slice(plain.expose_secret()).map_err(|_| VaultError::Corrupt)?;
        Ok(SecretFields(
            map.into_iter()
                .map(|(k, v)| (k, SecretString::from(v)))
                .collect(),
        ))
    }
}

/// Named secret values. `Debug` shows the names only.
#[derive(Clone, Default)]
pub struct SecretFields(BTreeMap<String, SecretString>);

impl std::fmt::Debug for SecretFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl SecretFields {
    pub fn new() -> SecretFields {
        SecretFields::default()
    }

    pub fn insert(&mut self, name: impl Into<String>, value: SecretString) {
        self.0.insert(name.into(), value);
    }

    pub fn get(&self, name: &str) -> Option<&SecretString> {
        self.0.get(name)
    }

    pub fn remove(&mut self, name: &str) -> Option<SecretString> {
        self.0.remove(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &SecretString)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyring::KEY_LEN;

    fn ring(byte: u8) -> Keyring {
        Keyring::from_keys(&[SecretBox::new(Box::new([byte; KEY_LEN]))]).unwrap()
    }

    #[test]
    fn link_tokens_have_the_documented_shape_and_hash() {
        let t = new_link_token().unwrap();
        let text = t.token.expose_secret();
        assert!(looks_like_link_token(text), "{text}");
        assert_eq!(token_hash(text), t.hash);
        assert!(!looks_like_link_token("lk_short"));
        assert!(!looks_like_link_token(&text.replace("lk_", "xx_")));
        assert!(!format!("{t:?}").contains(&text[3..]));
    }

    #[test]
    fn states_verify_only_when_untampered_and_signed_by_the_keyring() {
        let r = ring(1);
        let s = r.new_oauth_state().unwrap();
        let text = s.state.expose_secret().to_owned();
        assert_eq!(r.verify_oauth_state(&text), Some(s.id.clone()));
        // Flip one character of the nonce, then of the tag.
        let mut bytes = text.clone().into_bytes();
        bytes[3] = if bytes[3] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            r.verify_oauth_state(std::str::from_utf8(&bytes).unwrap()),
            None
        );
        let mut bytes = text.clone().into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            r.verify_oauth_state(std::str::from_utf8(&bytes).unwrap()),
            None
        );
        assert_eq!(
            ring(2).verify_oauth_state(&text),
            None,
            "another server's key"
        );
        for junk in ["", ".", "abc", "a.b.c", "%%%.%%%"] {
            assert_eq!(r.verify_oauth_state(junk), None, "{junk}");
        }
        // After a rotation the old key still verifies states issued just before.
        let rotated = Keyring::parse(&format!(
            "{},{}",
            base64::engine::general_purpose::STANDARD.encode([3u8; KEY_LEN]),
            base64::engine::general_purpose::STANDARD.encode([1u8; KEY_LEN])
        ))
        .unwrap();
        assert_eq!(rotated.verify_oauth_state(&text), Some(s.id));
    }

    #[test]
    fn secret_fields_round_trip_sealed_and_never_show_values() {
        let r = ring(1);
        let mut f = SecretFields::new();
        f.insert("access_token", SecretString::from("gho_planted_secret"));
        f.insert("refresh_token", SecretString::from("ghr_planted_secret"));
        let sealed = r.seal_fields("connected_accounts:ca_1", &f).unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"gho_pl"));
        let back = r.open_fields("connected_accounts:ca_1", &sealed).unwrap();
        assert_eq!(
            back.get("access_token").map(ExposeSecret::expose_secret),
            Some("gho_planted_secret")
        );
        assert!(r.open_fields("connected_accounts:ca_2", &sealed).is_err());
        let dbg = format!("{back:?}");
        assert_eq!(dbg, r#"{"access_token", "refresh_token"}"#);
    }
}
