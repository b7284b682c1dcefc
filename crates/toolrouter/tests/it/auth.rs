//! Secrets stay secret, end to end through the real binary: a full OAuth2 connect (custom auth
//! config with a planted client secret), an API-key connect through the form (a planted key), a
//! token rotation after a 401, tool calls with both, listings and metrics — then every HTTP
//! response, every log line (at debug level) and stdout is scanned for every planted or issued
//! secret value.

use std::time::Duration;

use reqwest::redirect::Policy;
use serde_json::{Value, json};

use crate::process::Proc;
use crate::provider::{CLIENT_ID, Provider};

const PLANTED_CLIENT_SECRET: &str = "planted-client-secret-3c9a0d71";
const PLANTED_API_KEY: &str = "planted-api-key-b81f2e66";

fn toolkits(dir: &std::path::Path, origin: &str) {
    let acme = json!({
        "slug": "acme", "name": "Acme", "description": "A test service behind OAuth2.",
        "base_url": format!("{origin}/api"),
        "auth_schemes": [{"type": "OAUTH2",
            "oauth2": {"authorize_url": format!("{origin}/authorize"), "token_url": format!("{origin}/token")},
            "inject": [{"in": "header", "name": "Authorization", "value": "Bearer {access_token}"}]}],
        "tools": [{"slug": "ACME_WHOAMI", "name": "Who am I", "description": "Return the authenticated user.",
                   "input": {"type": "object"}, "http": {"method": "GET", "path": "/whoami"}}]
    });
    let keyco = json!({
        "slug": "keyco", "name": "KeyCo", "description": "A test service taking an API key.",
        "base_url": format!("{origin}/api"),
        "auth_schemes": [{"type": "API_KEY",
            "fields": [{"name": "api_key", "display_name": "API key", "secret": true}],
            "inject": [{"in": "header", "name": "Authorization", "value": "Bearer {api_key}"}]}],
        "tools": [{"slug": "KEYCO_WHOAMI", "name": "Who am I", "description": "Return the authenticated user.",
                   "input": {"type": "object"}, "http": {"method": "GET", "path": "/whoami"}}]
    });
    std::fs::write(dir.join("acme.json"), acme.to_string()).unwrap();
    std::fs::write(dir.join("keyco.json"), keyco.to_string()).unwrap();
}

/// Sends requests and keeps everything that came back.
struct Recorder {
    client: reqwest::Client,
    base: String,
    key: String,
    transcript: String,
}

impl Recorder {
    async fn send(
        &mut self,
        req: reqwest::RequestBuilder,
    ) -> (u16, reqwest::header::HeaderMap, String) {
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        self.transcript
            .push_str(&format!("{status} {headers:?}\n{text}\n"));
        (status, headers, text)
    }

    async fn api(&mut self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .client
            .request(
                method.parse().unwrap(),
                format!("{}/api/v3.1{path}", self.base),
            )
            .header("x-api-key", &self.key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let (status, _, text) = self.send(req).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A browser page: the status and the `Location` it redirects to, if any.
    async fn page(&mut self, url: &str, form: Option<&[(&str, &str)]>) -> (u16, Option<String>) {
        let req = match form {
            Some(f) => self
                .client
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(
                    url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(f)
                        .finish(),
                ),
            None => self.client.get(url),
        };
        let (status, headers, _) = self.send(req).await;
        let location = headers
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        (status, location)
    }
}

#[tokio::test]
async fn planted_secrets_never_reach_responses_logs_or_metrics() {
    let provider = Provider::start(PLANTED_CLIENT_SECRET).await;
    let dir = tempfile::tempdir().unwrap();
    let kits = dir.path().join("toolkits");
    std::fs::create_dir(&kits).unwrap();
    toolkits(&kits, &provider.origin());
    let data = dir.path().join("data");
    let p = Proc::serve(
        &data,
        &[
            "--toolkits-dir",
            kits.to_str().unwrap(),
            "--outbound-allow",
            "127.0.0.1",
            "--callback-url",
            "https://app.test/connected",
            "--log",
            "debug",
        ],
    )
    .await;
    let key = std::fs::read_to_string(data.join("api-key"))
        .unwrap()
        .trim()
        .to_owned();
    let mut r = Recorder {
        client: reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap(),
        base: p.base.clone(),
        key: key.clone(),
        transcript: String::new(),
    };

    // OAuth2 with a custom config carrying the planted client secret.
    let (st, created) = r
        .api(
            "POST",
            "/auth_configs",
            Some(json!({"toolkit": {"slug": "acme"},
                        "auth_config": {"type": "use_custom_auth", "authScheme": "OAUTH2",
                                        "credentials": {"client_id": CLIENT_ID, "client_secret": PLANTED_CLIENT_SECRET}}})),
        )
        .await;
    assert_eq!(st, 201, "{created}");
    let acme_config = created["auth_config"]["id"].as_str().unwrap().to_owned();
    let (st, link) = r
        .api(
            "POST",
            "/connected_accounts/link",
            Some(json!({"auth_config_id": acme_config, "user_id": "u1",
                        "callback_url": "https://app.test/connected"})),
        )
        .await;
    assert_eq!(st, 201, "{link}");
    let link_url = link["redirect_url"].as_str().unwrap().to_owned();
    let link_token = link["link_token"].as_str().unwrap().to_owned();
    let account = link["connected_account_id"].as_str().unwrap().to_owned();
    assert_eq!(link_url, format!("{}/link/{link_token}", p.base));
    let (st, to_provider) = r.page(&link_url, None).await;
    assert_eq!(st, 302);
    let (code, state) = provider.authorize(&to_provider.unwrap());
    let callback = format!("{}/link/callback?code={code}&state={state}", p.base);
    let (st, back) = r.page(&callback, None).await;
    assert_eq!(st, 302);
    assert!(
        back.unwrap()
            .starts_with("https://app.test/connected?status=success")
    );
    let (_, got) = r
        .api("GET", &format!("/connected_accounts/{account}"), None)
        .await;
    assert_eq!(got["status"], "ACTIVE", "{got}");
    let run = |user: &str, tool: &str| json!({"user_id": user, "arguments": {}, "tool": tool});
    let (st, out) = r
        .api(
            "POST",
            "/tools/execute/ACME_WHOAMI",
            Some(run("u1", "acme")),
        )
        .await;
    assert_eq!((st, &out["successful"]), (200, &json!(true)), "{out}");
    // The provider revokes the token: the next call refreshes (rotating both tokens) and retries.
    provider.revoke_access_tokens();
    let (_, out) = r
        .api(
            "POST",
            "/tools/execute/ACME_WHOAMI",
            Some(run("u1", "acme")),
        )
        .await;
    assert_eq!(out["successful"], true, "{out}");
    assert_eq!(provider.refresh_requests(), 1);

    // An API key typed into the connect form.
    let (_, created) = r
        .api(
            "POST",
            "/auth_configs",
            Some(json!({"toolkit": {"slug": "keyco"}, "auth_config": {"type": "use_composio_managed_auth"}})),
        )
        .await;
    let keyco_config = created["auth_config"]["id"].as_str().unwrap().to_owned();
    let (_, link) = r
        .api(
            "POST",
            "/connected_accounts/link",
            Some(json!({"auth_config_id": keyco_config, "user_id": "u1"})),
        )
        .await;
    let form_url = link["redirect_url"].as_str().unwrap().to_owned();
    assert_eq!(r.page(&form_url, None).await.0, 200);
    let (st, _) = r
        .page(&form_url, Some(&[("api_key", PLANTED_API_KEY)]))
        .await;
    assert_eq!(st, 200, "no callback URL: a result page");
    provider.accept_token(PLANTED_API_KEY);
    let (_, out) = r
        .api(
            "POST",
            "/tools/execute/KEYCO_WHOAMI",
            Some(run("u1", "keyco")),
        )
        .await;
    assert_eq!(out["successful"], true, "{out}");

    // A provider that refuses: the error reaches the account, not the secret.
    let (_, link) = r
        .api(
            "POST",
            "/connected_accounts/link",
            Some(json!({"auth_config_id": acme_config, "user_id": "u2"})),
        )
        .await;
    let (_, to_provider) = r.page(link["redirect_url"].as_str().unwrap(), None).await;
    let (_, state) = provider.authorize(&to_provider.unwrap());
    let (st, _) = r
        .page(
            &format!("{}/link/callback?code=forged&state={state}", p.base),
            None,
        )
        .await;
    assert_eq!(st, 200, "a result page saying access was not granted");

    // Everything a project can read back.
    for path in [
        "/auth_configs".to_owned(),
        format!("/auth_configs/{acme_config}"),
        "/connected_accounts".to_owned(),
        format!("/connected_accounts/{account}"),
    ] {
        let (st, body) = r.api("GET", &path, None).await;
        assert_eq!(st, 200, "{path}: {body}");
    }
    let (_, config) = r
        .api("GET", &format!("/auth_configs/{acme_config}"), None)
        .await;
    assert_eq!(config["credentials"]["client_secret"], "plan********");
    let metrics = r.send(r.client.get(format!("{}/metrics", p.base))).await.2;
    assert!(
        metrics.contains("/link/{token}"),
        "routes are labelled by template"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;

    let mut secrets: Vec<String> = provider.handed_out();
    assert!(
        secrets.len() >= 5,
        "codes and two generations of tokens: {secrets:?}"
    );
    secrets.push(PLANTED_CLIENT_SECRET.to_owned());
    secrets.push(PLANTED_API_KEY.to_owned());
    let logs = p.logs();
    let stdout = p.stdout();
    assert!(
        logs.contains("access token refreshed"),
        "debug logs were captured"
    );
    for secret in &secrets {
        assert!(
            !r.transcript.contains(secret.as_str()),
            "{secret} in a response:\n{}",
            r.transcript
        );
        assert!(
            !logs.contains(secret.as_str()),
            "{secret} in the logs:\n{logs}"
        );
        assert!(!stdout.contains(secret.as_str()), "{secret} on stdout");
    }
    // Link tokens are for the link's creator only: never logged.
    assert!(!logs.contains(&link_token), "a link token in the logs");
    assert!(!logs.contains(&key[4..]), "the API key in the logs");
}

#[tokio::test]
async fn rotate_key_keeps_everything_working_and_a_wrong_key_stops_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let p = Proc::serve(&data, &[]).await;
    let key = std::fs::read_to_string(data.join("api-key"))
        .unwrap()
        .trim()
        .to_owned();
    let client = reqwest::Client::new();
    let body = json!({"toolkit": {"slug": "github"},
                      "auth_config": {"type": "use_custom_auth", "authScheme": "OAUTH2",
                                      "credentials": {"client_id": "cid", "client_secret": "rotate-me-secret-123456"}}});
    let res = client
        .post(format!("{}/api/v3.1/auth_configs", p.base))
        .header("x-api-key", &key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    drop(p);

    let out = crate::process::bin(&["vault", "rotate-key", "--data-dir", d]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.contains("re-encrypted 1 secret(s)"), "{stdout}");
    let keys = std::fs::read_to_string(data.join("master.key")).unwrap();
    assert_eq!(
        keys.lines().filter(|l| !l.starts_with('#')).count(),
        2,
        "new key first, old kept"
    );

    // Restarted on the rotated keyring: the old API key and the stored secret still work.
    let p = Proc::serve(&data, &[]).await;
    let (st, list) = p.get("/api/v3.1/auth_configs", Some(&key)).await;
    assert_eq!(st, 200);
    assert_eq!(
        list["items"][0]["credentials"]["client_secret"],
        "rota********"
    );
    drop(p);

    // Another master key: a clear refusal at start, not garbage later.
    let other = std::process::Command::new(crate::process::exe())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", d])
        .env(
            "TOOLROUTER_MASTER_KEY",
            "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
        )
        .output()
        .unwrap();
    assert!(!other.status.success());
    let err = String::from_utf8_lossy(&other.stderr);
    assert!(
        err.contains("the master key does not match this database"),
        "{err}"
    );
}
