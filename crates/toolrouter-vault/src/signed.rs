//! Signatures for what this server hands out and later accepts back as it was: URLs accepted
//! without an API key (the files mount's upload and download URLs, CONTRACT §3.15) and the
//! opaque `request_state` of an approval question. Each purpose has its own key, derived from
//! each master key for that purpose only, so a signature of one kind never passes as another,
//! it is never the API key, and it rotates with the keyring; verification tries every key, so
//! what was issued before a rotation stays valid until it expires.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::keyring::Keyring;

/// What a signature is for (the label its key is derived with).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Files mount URLs.
    Url,
    /// The `request_state` of an approval (`input_required`) answer.
    ApprovalState,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::Url => b"toolrouter/signed-url/v1",
            Purpose::ApprovalState => b"toolrouter/approval-state/v1",
        }
    }
}

fn mac(purpose: Purpose, base: &[u8; 32], message: &[u8]) -> [u8; 32] {
    let mut derive = <Hmac<Sha256>>::new_from_slice(base).expect("any key length");
    derive.update(purpose.label());
    let key: [u8; 32] = derive.finalize().into_bytes().into();
    let mut mac = <Hmac<Sha256>>::new_from_slice(&key).expect("any key length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

impl Keyring {
    /// The signature of `message` (base64url, 43 characters) under the active key.
    pub fn sign_url(&self, message: &[u8]) -> String {
        self.sign_for(Purpose::Url, message)
    }

    /// Whether `signature` is [`Keyring::sign_url`] of `message` under any key of the keyring
    /// (compared in constant time).
    pub fn verify_url(&self, message: &[u8], signature: &str) -> bool {
        self.verify_for(Purpose::Url, message, signature)
    }

    /// The signature of `message` for `purpose` (base64url, 43 characters) under the active key.
    pub fn sign_for(&self, purpose: Purpose, message: &[u8]) -> String {
        let key = self.state_keys().next().expect("keyring is never empty");
        URL_SAFE_NO_PAD.encode(mac(purpose, key, message))
    }

    /// Whether `signature` is [`Keyring::sign_for`] of `message` for `purpose` under any key of
    /// the keyring (compared in constant time).
    pub fn verify_for(&self, purpose: Purpose, message: &[u8], signature: &str) -> bool {
        let Ok(given) = URL_SAFE_NO_PAD.decode(signature.trim()) else {
            return false;
        };
        if given.len() != 32 {
            return false;
        }
        self.state_keys()
            .any(|k| bool::from(mac(purpose, k, message).ct_eq(&given)))
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretBox;

    use super::*;
    use crate::keyring::KEY_LEN;

    fn ring(bytes: &[u8]) -> Keyring {
        let keys: Vec<_> = bytes
            .iter()
            .map(|b| SecretBox::new(Box::new([*b; KEY_LEN])))
            .collect();
        Keyring::from_keys(&keys).unwrap()
    }

    #[test]
    fn signatures_verify_only_for_the_same_message_and_keyring() {
        let r = ring(&[1]);
        let sig = r.sign_url(b"get sess a.txt 100");
        assert_eq!(sig.len(), 43);
        assert!(r.verify_url(b"get sess a.txt 100", &sig));
        assert!(!r.verify_url(b"get sess a.txt 101", &sig));
        assert!(!r.verify_url(b"get sess a.txt 100", &sig[1..]));
        assert!(!r.verify_url(b"get sess a.txt 100", "not base64!"));
        assert!(!ring(&[2]).verify_url(b"get sess a.txt 100", &sig));
        // After a rotation (new key first) old signatures still verify; new ones use the new key.
        let rotated = ring(&[2, 1]);
        assert!(rotated.verify_url(b"get sess a.txt 100", &sig));
        assert_ne!(rotated.sign_url(b"get sess a.txt 100"), sig);
        // A signature for one purpose is not one for another.
        assert!(!r.verify_for(Purpose::ApprovalState, b"get sess a.txt 100", &sig));
        let state = r.sign_for(Purpose::ApprovalState, b"m");
        assert!(r.verify_for(Purpose::ApprovalState, b"m", &state));
        assert!(!r.verify_url(b"m", &state));
    }
}
