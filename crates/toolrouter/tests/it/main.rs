//! The `toolrouter` binary as an operator runs it: first start, restarts, the keys commands,
//! configuration errors, TLS, graceful shutdown, PostgreSQL, and losing the database while
//! running. Each test spawns the real binary on 127.0.0.1:0 and reads its JSON logs.

mod auth;
mod cli;
mod client;
mod client_flows;
mod pg_proxy;
mod process;
// The OAuth2 provider stand-in of the app's tests, shared rather than written twice.
#[path = "../../../toolrouter-app/tests/it/provider.rs"]
#[expect(
    dead_code,
    reason = "shared with the app tests; this suite uses part of it"
)]
mod provider;
mod sessions;
mod tidy;
mod toolkits;

use std::io::{Read, Write};
use std::time::Duration;

use serde_json::{Value, json};

use crate::process::{Proc, bin, pg_url};

#[tokio::test]
async fn first_start_creates_a_project_and_a_key_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let p = Proc::serve(&data, &[]).await;
    let key = std::fs::read_to_string(data.join("api-key"))
        .unwrap()
        .trim()
        .to_owned();
    assert!(
        p.stdout().contains(&key),
        "the key is printed once on first start"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in ["api-key", "master.key"] {
            let mode = std::fs::metadata(data.join(f))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{f}");
        }
    }
    let (st, body) = p.get("/api/v3.1/project", Some(&key)).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["name"], "default");
    let project = body["id"].clone();
    drop(p);

    // A restart on the same database creates nothing and prints no key.
    let p = Proc::serve(&data, &[]).await;
    assert!(!p.stdout().contains("trk_"), "{}", p.stdout());
    let (st, body) = p.get("/api/v3.1/project", Some(&key)).await;
    assert_eq!((st, &body["id"]), (200, &project));
    assert!(
        !p.logs().contains(&key[4..]),
        "API keys never reach the logs"
    );
}

#[tokio::test]
async fn keys_commands_create_list_and_revoke() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    drop(Proc::serve(&data, &[]).await);
    let d = data.to_str().unwrap();
    let created = bin(&["keys", "create", "--name", "ci", "--json", "--data-dir", d]);
    assert!(created.status.success(), "{created:?}");
    let created: Value = serde_json::from_slice(&created.stdout).unwrap();
    let new_key = created["key"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();

    let listed = bin(&["keys", "list", "--json", "--data-dir", d]);
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let names: Vec<_> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("default"), json!("ci")]);
    assert!(
        !listed.to_string().contains(&new_key[12..]),
        "listing shows prefixes only"
    );

    let p = Proc::serve(&data, &[]).await;
    assert_eq!(p.get("/api/v3.1/project", Some(&new_key)).await.0, 200);
    drop(p);
    let revoked = bin(&["keys", "revoke", &id, "--data-dir", d]);
    assert!(revoked.status.success(), "{revoked:?}");
    let again = bin(&["keys", "revoke", &id, "--data-dir", d]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains(&format!("API key {id} not found")));
    let p = Proc::serve(&data, &[]).await;
    assert_eq!(p.get("/api/v3.1/project", Some(&new_key)).await.0, 401);
}

#[test]
fn configuration_errors_stop_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "listn = \"127.0.0.1:1\"\n").unwrap();
    let out = bin(&["serve", "--config", cfg.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown field `listn`"), "{err}");

    let out = bin(&[
        "serve",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--database-url",
        "postgres://someone:hunter2@127.0.0.1:1/nowhere",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot open the database (postgres://someone:***@127.0.0.1:1/nowhere)"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "passwords never printed: {err}");

    let help = bin(&["serve", "--help"]);
    let help = String::from_utf8_lossy(&help.stdout);
    for opt in [
        "--listen",
        "TOOLROUTER_LISTEN",
        "--database-url",
        "TOOLROUTER_DATABASE_URL",
        "--tls-cert",
    ] {
        assert!(help.contains(opt), "--help documents {opt}");
    }
}

#[tokio::test]
async fn serves_https_with_the_given_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let p = Proc::serve(
        &dir.path().join("data"),
        &[
            "--tls-cert",
            cert_path.to_str().unwrap(),
            "--tls-key",
            key_path.to_str().unwrap(),
        ],
    )
    .await;
    assert!(p.base.starts_with("https://"), "{}", p.base);
    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap()])
        .resolve("localhost", p.addr)
        .build()
        .unwrap();
    let url = format!("https://localhost:{}/healthz", p.addr.port());
    let res = client.get(url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    // Plain HTTP to the TLS port gets no HTTP answer.
    let plain = reqwest::get(format!("http://{}/healthz", p.addr)).await;
    assert!(plain.is_err() || plain.unwrap().status() != 200);
}

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut p = Proc::serve(&data, &[]).await;
    let key = std::fs::read_to_string(data.join("api-key"))
        .unwrap()
        .trim()
        .to_owned();
    let body = r#"{"name": "in-flight"}"#;
    let mut stream = std::net::TcpStream::connect(p.addr).unwrap();
    write!(
        stream,
        "POST /api/v3.1/api_keys HTTP/1.1\r\nhost: x\r\nx-api-key: {key}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
        body.len(),
        &body[..5]
    )
    .unwrap();
    stream.flush().unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    p.signal_term();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stream.write_all(&body.as_bytes()[5..]).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    let status = p.wait();
    assert!(status.success(), "clean exit after shutdown: {status:?}");
    // The key issued during shutdown was stored.
    let listed = bin(&[
        "keys",
        "list",
        "--json",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("in-flight"));
}

#[tokio::test]
async fn postgres_backend_survives_losing_the_database() {
    let Some(url) = pg_url() else { return };
    let proxy = pg_proxy::PgProxy::start(&url).await;
    let schema = format!("bin_{}", uuid::Uuid::new_v4().simple());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let p = Proc::serve(
        &data,
        &["--database-url", &proxy.url, "--database-schema", &schema],
    )
    .await;
    let key = std::fs::read_to_string(data.join("api-key"))
        .unwrap()
        .trim()
        .to_owned();
    // (`workbench` is there too when the server runs sandboxes, i.e. as root.)
    let ready = p.get("/readyz", None).await.1;
    assert_eq!(
        (&ready["status"], &ready["database"]),
        (&json!("ready"), &json!("postgres")),
        "{ready}"
    );
    assert_eq!(p.get("/api/v3.1/api_keys", Some(&key)).await.0, 200);

    proxy.cut();
    let (st, body) = p.get("/readyz", None).await;
    assert_eq!(st, 503, "{body}");
    assert_eq!(body["error"]["slug"], "storage_unavailable");
    let (st, body) = p.get("/api/v3.1/api_keys", Some(&key)).await;
    assert_eq!(st, 503, "{body}\n{}", p.logs());
    assert!(body["error"]["request_id"].is_string());

    proxy.restore();
    let mut ready = false;
    for _ in 0..50 {
        if p.get("/readyz", None).await.0 == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "recovers when the database returns");
    assert_eq!(p.get("/api/v3.1/api_keys", Some(&key)).await.0, 200);
    assert!(!p.logs().contains("panicked"), "{}", p.logs());
    drop(p);
    toolrouter_store::PgStore::drop_schema(&url, &schema)
        .await
        .unwrap();
}

#[test]
fn migrate_applies_pending_migrations_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let first = bin(&["migrate", "--data-dir", d]);
    assert!(first.status.success(), "{first:?}");
    let text = String::from_utf8_lossy(&first.stdout);
    assert!(
        text.starts_with("applied ") && !text.starts_with("applied 0 "),
        "{text}"
    );
    let again = bin(&["migrate", "--data-dir", d]);
    assert!(String::from_utf8_lossy(&again.stdout).starts_with("applied 0 migration(s)"));
}
