//! The vault: everything that touches key material.
//!
//! - [`Keyring`]: the master keys (the first one encrypts; all of them decrypt), loaded from a
//!   key file or handed in by the binary from `TOOLROUTER_MASTER_KEY`, generated with mode 0600
//!   on first start.
//! - [`Keyring::seal`] / [`Keyring::open`]: XChaCha20-Poly1305 with a random 192-bit nonce and a
//!   caller-chosen associated-data string (table, row id), the key id stored with each
//!   ciphertext so rotation can re-encrypt.
//! - API keys: generated here, stored only as HMAC-SHA256 under a pepper derived from the master
//!   key, compared in constant time.
//! - Connect-link tokens and signed, single-use OAuth states ([`new_link_token`],
//!   [`Keyring::new_oauth_state`]); [`SecretFields`], a credential set sealed as one value.
//! - [`Keyring::sign_url`] / [`Keyring::verify_url`]: signatures for expiring URLs the server
//!   accepts without an API key (the files mount's upload and download URLs).
//! - [`oauth`]: the OAuth2 authorization-code flow with PKCE and token refresh (this crate and
//!   `exec` are the only ones that make outbound HTTP calls).
//!
//! Secrets leave this crate only as `secrecy` types, which redact themselves in `Debug`.

mod apikey;
mod keyring;
pub mod oauth;
mod signed;
mod tokens;

pub use apikey::{API_KEY_PREFIX, ApiKeyHash, NewApiKey, display_prefix, looks_like_api_key};
pub use keyring::{KEY_LEN, Keyring, VaultError, write_secret_file};
pub use signed::Purpose;
pub use tokens::{
    LINK_TOKEN_PREFIX, NewState, OpaqueToken, SecretFields, looks_like_link_token, new_link_token,
    token_hash,
};
