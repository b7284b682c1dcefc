//! OAuth2 authorization-code flow with PKCE (S256) and token refresh, against the endpoints a
//! toolkit definition declares.
//!
//! The protocol work is the `oauth2` crate's; its HTTP goes through [`OAuthClient`], a small
//! adapter over reqwest 0.13 (the crate's own reqwest feature pins an older reqwest). Errors
//! carry the provider's error code (`invalid_grant`, `access_denied`) and never a response
//! body, a token or a client secret: bodies of token responses are credentials.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use toolrouter_catalog::model::{ClientAuth, OAuth2Spec};

/// Largest token-endpoint response read (they are a few hundred bytes).
const MAX_RESPONSE: usize = 256 * 1024;

/// An OAuth app: the provider's endpoints and the client registered with it.
#[derive(Debug, Clone, Copy)]
pub struct OAuthApp<'a> {
    pub spec: &'a OAuth2Spec,
    pub client_id: &'a str,
    pub client_secret: Option<&'a SecretString>,
}

/// What a token endpoint granted.
#[derive(Debug)]
pub struct TokenSet {
    pub access_token: SecretString,
    /// Absent when the provider did not issue (or rotate) one.
    pub refresh_token: Option<SecretString>,
    pub expires_in: Option<Duration>,
    pub token_type: String,
    /// Granted scopes, as the provider wrote them.
    pub scope: Option<String>,
}

/// Why a token request failed.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The provider answered with an OAuth error: the code is the provider's (sanitised).
    #[error("the authorization server refused the request: {code}")]
    Refused { code: String },
    #[error("the authorization server could not be reached")]
    Unreachable {
        #[source]
        source: reqwest::Error,
    },
    #[error("the authorization server's answer could not be read")]
    Malformed,
    #[error("the OAuth settings are not usable: {0}")]
    Config(String),
}

impl OAuthError {
    /// A short machine-readable reason for a connected account's `status_reason`.
    pub fn reason_code(&self) -> String {
        match self {
            OAuthError::Refused { code } => code.clone(),
            OAuthError::Unreachable { .. } => "server_unreachable".to_owned(),
            OAuthError::Malformed => "invalid_response".to_owned(),
            OAuthError::Config(_) => "invalid_configuration".to_owned(),
        }
    }
}

/// Keeps a provider-supplied error code only if it looks like one (RFC 6749 codes are short
/// ASCII words), so nothing else from a response can reach a status or a log.
pub fn sanitize_code(code: &str) -> String {
    let ok = !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        code.to_owned()
    } else {
        "invalid_response".to_owned()
    }
}

/// A PKCE pair: the verifier (kept, sealed, until the callback) and its S256 challenge.
#[derive(Debug)]
pub struct Pkce {
    pub verifier: SecretString,
    pub challenge: String,
}

impl Pkce {
    pub fn generate() -> Pkce {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        Pkce {
            verifier: SecretString::from(verifier.secret().clone()),
            challenge: challenge.as_str().to_owned(),
        }
    }
}

fn config_error(what: &str) -> OAuthError {
    OAuthError::Config(format!("{what} is not a valid URL"))
}

/// The URL to send the user to. `scopes` are joined with the provider's separator; `pkce` is
/// the verifier whose challenge goes along (when the provider supports PKCE).
pub fn authorize_url(
    app: &OAuthApp<'_>,
    redirect_uri: &str,
    state: &SecretString,
    scopes: &[String],
    pkce: Option<&SecretString>,
) -> Result<String, OAuthError> {
    let client = BasicClient::new(ClientId::new(app.client_id.to_owned()))
        .set_auth_uri(
            AuthUrl::new(app.spec.authorize_url.clone())
                .map_err(|_| config_error("authorize_url"))?,
        )
        .set_redirect_uri(
            RedirectUrl::new(redirect_uri.to_owned()).map_err(|_| config_error("redirect URI"))?,
        );
    let state = state.expose_secret().to_owned();
    let mut req = client.authorize_url(move || CsrfToken::new(state));
    if !scopes.is_empty() {
        // One pre-joined scope keeps providers with `,` separators working.
        req = req.add_scope(Scope::new(scopes.join(&app.spec.scope_separator)));
    }
    for (k, v) in &app.spec.authorize_params {
        req = req.add_extra_param(k.as_str(), v.as_str());
    }
    if let Some(verifier) = pkce {
        let verifier = PkceCodeVerifier::new(verifier.expose_secret().to_owned());
        req = req.set_pkce_challenge(PkceCodeChallenge::from_code_verifier_sha256(&verifier));
    }
    Ok(req.url().0.to_string())
}

/// Sends token requests. Cheap to clone.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    http: reqwest::Client,
}

/// The transport error the adapter reports to `oauth2`.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("request failed")]
    Send(#[source] reqwest::Error),
    #[error("response too large")]
    TooLarge,
    #[error("invalid response")]
    Build,
}

type HttpFuture<'c> =
    Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, HttpError>> + Send + 'c>>;

impl<'c> oauth2::AsyncHttpClient<'c> for OAuthClient {
    type Error = HttpError;
    type Future = HttpFuture<'c>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let mut resp = self
                .http
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await
                .map_err(|e| HttpError::Send(e.without_url()))?;
            let mut builder = http::Response::builder().status(resp.status());
            for (k, v) in resp.headers() {
                builder = builder.header(k, v);
            }
            let mut out = Vec::new();
            while let Some(chunk) = resp
                .chunk()
                .await
                .map_err(|e| HttpError::Send(e.without_url()))?
            {
                if out.len() + chunk.len() > MAX_RESPONSE {
                    return Err(HttpError::TooLarge);
                }
                out.extend_from_slice(&chunk);
            }
            builder.body(out).map_err(|_| HttpError::Build)
        })
    }
}

impl OAuthClient {
    /// A client with the given per-request timeout. Redirects are not followed: a token
    /// endpoint that redirects would take the client secret somewhere else.
    pub fn new(timeout: Duration) -> Result<OAuthClient, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("toolrouter/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(OAuthClient { http })
    }

    fn client(
        app: &OAuthApp<'_>,
        token_url: &str,
    ) -> Result<
        BasicClient<
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointSet,
        >,
        OAuthError,
    > {
        let mut client = BasicClient::new(ClientId::new(app.client_id.to_owned()))
            .set_token_uri(
                TokenUrl::new(token_url.to_owned()).map_err(|_| config_error("token_url"))?,
            )
            .set_auth_type(match app.spec.client_auth {
                ClientAuth::Body => AuthType::RequestBody,
                ClientAuth::Basic => AuthType::BasicAuth,
            });
        if let Some(secret) = app.client_secret {
            client = client.set_client_secret(ClientSecret::new(secret.expose_secret().to_owned()));
        }
        Ok(client)
    }

    /// Exchanges an authorization code (with the PKCE verifier, when one was sent).
    pub async fn exchange_code(
        &self,
        app: &OAuthApp<'_>,
        redirect_uri: &str,
        code: &str,
        verifier: Option<&SecretString>,
    ) -> Result<TokenSet, OAuthError> {
        let client = Self::client(app, &app.spec.token_url)?.set_redirect_uri(
            RedirectUrl::new(redirect_uri.to_owned()).map_err(|_| config_error("redirect URI"))?,
        );
        let mut req = client.exchange_code(AuthorizationCode::new(code.to_owned()));
        if let Some(v) = verifier {
            req = req.set_pkce_verifier(PkceCodeVerifier::new(v.expose_secret().to_owned()));
        }
        let result = req.request_async(self).await;
        token_set(result)
    }

    /// Exchanges a refresh token for a new access token (and maybe a new refresh token).
    pub async fn refresh(
        &self,
        app: &OAuthApp<'_>,
        refresh_token: &SecretString,
    ) -> Result<TokenSet, OAuthError> {
        let url = app
            .spec
            .refresh_url
            .as_deref()
            .unwrap_or(&app.spec.token_url);
        let client = Self::client(app, url)?;
        let token = RefreshToken::new(refresh_token.expose_secret().to_owned());
        let result = client
            .exchange_refresh_token(&token)
            .request_async(self)
            .await;
        token_set(result)
    }
}

fn token_set(
    result: Result<
        oauth2::basic::BasicTokenResponse,
        RequestTokenError<HttpError, oauth2::basic::BasicErrorResponse>,
    >,
) -> Result<TokenSet, OAuthError> {
    match result {
        Ok(t) => Ok(TokenSet {
            access_token: SecretString::from(t.access_token().secret().clone()),
            refresh_token: t
                .refresh_token()
                .map(|r| SecretString::from(r.secret().clone())),
            expires_in: t.expires_in(),
            token_type: token_type_name(t.token_type()),
            scope: t
                .scopes()
                .map(|s| s.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(" ")),
        }),
        Err(RequestTokenError::ServerResponse(e)) => Err(OAuthError::Refused {
            code: sanitize_code(e.error().as_ref()),
        }),
        Err(RequestTokenError::Request(HttpError::Send(source))) => {
            Err(OAuthError::Unreachable { source })
        }
        Err(RequestTokenError::Request(_)) => Err(OAuthError::Malformed),
        // Some providers (GitHub) answer 200 with `{"error": "bad_verification_code"}`.
        Err(RequestTokenError::Parse(_, body)) => {
            match serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str().map(sanitize_code)))
            {
                Some(code) => Err(OAuthError::Refused { code }),
                None => Err(OAuthError::Malformed),
            }
        }
        Err(RequestTokenError::Other(_)) => Err(OAuthError::Malformed),
    }
}

fn token_type_name(t: &oauth2::basic::BasicTokenType) -> String {
    match t {
        oauth2::basic::BasicTokenType::Bearer => "Bearer".to_owned(),
        oauth2::basic::BasicTokenType::Mac => "MAC".to_owned(),
        oauth2::basic::BasicTokenType::Extension(s) => sanitize_code(s),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn spec() -> OAuth2Spec {
        OAuth2Spec {
            authorize_url: "https://auth.example.test/authorize".into(),
            token_url: "https://auth.example.test/token".into(),
            refresh_url: None,
            default_scopes: vec!["repo".into()],
            scope_separator: ",".into(),
            pkce: true,
            authorize_params: BTreeMap::from([("access_type".into(), "offline".into())]),
            client_auth: ClientAuth::Body,
        }
    }

    #[test]
    fn authorize_url_carries_state_scopes_params_and_s256_challenge() {
        let spec = spec();
        let app = OAuthApp {
            spec: &spec,
            client_id: "cid",
            client_secret: None,
        };
        let pkce = Pkce::generate();
        let url = authorize_url(
            &app,
            "http://127.0.0.1:8080/link/callback",
            &SecretString::from("st.at"),
            &["repo".to_owned(), "user".to_owned()],
            Some(&pkce.verifier),
        )
        .unwrap();
        let parsed = reqwest::Url::parse(&url).unwrap();
        let q: BTreeMap<String, String> = parsed.query_pairs().into_owned().collect();
        assert_eq!(q["client_id"], "cid");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["state"], "st.at");
        assert_eq!(q["scope"], "repo,user");
        assert_eq!(q["access_type"], "offline");
        assert_eq!(q["redirect_uri"], "http://127.0.0.1:8080/link/callback");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["code_challenge"], pkce.challenge);
        assert!(!url.contains(pkce.verifier.expose_secret()));
    }

    #[test]
    fn provider_codes_are_kept_only_when_they_look_like_codes() {
        assert_eq!(sanitize_code("invalid_grant"), "invalid_grant");
        assert_eq!(sanitize_code("bad code with spaces"), "invalid_response");
        assert_eq!(sanitize_code(&"x".repeat(65)), "invalid_response");
        assert_eq!(sanitize_code(""), "invalid_response");
    }
}
