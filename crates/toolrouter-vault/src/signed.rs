//! Signatures for URLs this server hands out and later accepts without an API key (the files
//! mount's upload and download URLs, CONTRACT §3.15). The signing key is derived from each
//! master key for this purpose only, so it is never the API key and rotates with the keyring;
//! verification tries every key, so URLs issued before a rotation stay valid until they expire.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::keyring::Keyring;

const LABEL: &[u8] = b"toolrouter/signed-url/v1";

fn mac(base: &[u8; 32], message: &[u8]) -> [u8; 32] {
    let mut derive = <Hmac<Sha256>>::new_from_slice(base).expect("any key length");
    derive.update(LABEL);
    let key: [u8; 32] = derive.finalize().into_bytes().into();
    let mut mac = <Hmac<Sha256>>::new_from_slice(&key).expect("any key length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

impl Keyring {
    /// The signature of `message` (base64url, 43 characters) under the active key.
    pub fn sign_url(&self, message: &[u8]) -> String {
        let key = self.state_keys().next().expect("keyring is never empty");
        URL_SAFE_NO_PAD.encode(mac(key, message))
    }

    /// Whether `signature` is [`Keyring::sign_url`] of `message` under any key of the keyring
    /// (compared in constant time).
    pub fn verify_url(&self, message: &[u8], signature: &str) -> bool {
        let Ok(given) = URL_SAFE_NO_PAD.decode(signature.trim()) else {
            return false;
        };
        if given.len() != 32 {
            return false;
        }
        self.state_keys()
            .any(|k| bool::from(mac(k, message).ct_eq(&given)))
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
    }
}
