//! Network egress, when the operator enables it: sandboxed code reaches allowed hosts only
//! through the egress proxy (its policy refuses loopback, private and metadata addresses), the
//! sandbox still has no route of its own, and only the proxy variables join its environment.

use std::collections::BTreeSet;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc::UnboundedReceiver;
use toolrouter_exec::{EgressConfig, OutboundPolicy};
use toolrouter_workbench::IsolationPreference;

use crate::harness::{Harness, session};

/// A stand-in for an outside web server, on the host's loopback: answers `hello` and reports
/// the request line of everything it receives.
async fn origin() -> (u16, UnboundedReceiver<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => {
                            if !buf.is_empty() {
                                let _ = tx.send(String::from_utf8_lossy(&buf).into_owned());
                            }
                            return;
                        }
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let line = String::from_utf8_lossy(&buf)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let _ = tx.send(line);
                let _ = s
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
                    )
                    .await;
            });
        }
    });
    (port, rx)
}

fn ports(port: u16) -> BTreeSet<u16> {
    BTreeSet::from([80, 443, port])
}

/// Python that tries `f` and gives its value, or the exception's type and message.
const ATTEMPT: &str = "import socket, urllib.request, urllib.error\n\
    def attempt(f):\n    try:\n        return f()\n    except urllib.error.HTTPError as e:\n        \
    return (e.code, e.read().decode().strip())\n    except Exception as e:\n        \
    return type(e).__name__ + ': ' + str(e)\n\
    def get(url):\n    return urllib.request.urlopen(url, timeout=30).read()\n\
    def through_proxy(request):\n    s = socket.create_connection(('127.0.0.1', 3128), timeout=30)\n    \
    s.sendall(request.encode())\n    out = b''\n    while True:\n        chunk = s.recv(65536)\n        \
    if not chunk:\n            break\n        out += chunk\n    s.close()\n    return out.decode()\n";

#[tokio::test]
async fn code_reaches_an_allowed_host_through_the_proxy_only() {
    let (port, mut seen) = origin().await;
    let h = Harness::with_egress(
        EgressConfig {
            // Test-only: the stand-in lives on loopback, which the default policy refuses.
            policy: OutboundPolicy::public_only().allow_host("127.0.0.1"),
            ports: ports(port),
            ..EgressConfig::default()
        },
        |_| {},
    )
    .await;
    assert!(h.wb.status().egress);
    let s = session();

    let got = h
        .eval(
            &s,
            &format!("{ATTEMPT}attempt(lambda: get('http://127.0.0.1:{port}/x?y=1'))"),
        )
        .await;
    assert_eq!(got, "b'hello'");
    assert_eq!(seen.recv().await.as_deref(), Some("GET /x?y=1 HTTP/1.1"));

    // CONNECT (what HTTPS clients send) opens a tunnel to the same host.
    let got = h
        .eval(
            &s,
            &format!(
                "attempt(lambda: through_proxy(\
                 'CONNECT 127.0.0.1:{port} HTTP/1.1\\r\\n\\r\\nGET /tunnelled HTTP/1.1\\r\\n\\r\\n'))"
            ),
        )
        .await;
    assert!(
        got.starts_with("'HTTP/1.1 200 Connection Established\\r\\n\\r\\nHTTP/1.1 200 OK"),
        "{got}"
    );
    assert_eq!(
        seen.recv().await.as_deref(),
        Some("GET /tunnelled HTTP/1.1")
    );

    // Bash commands see the same proxy variables: curl goes through the proxy too.
    let out = h
        .bash(
            &s,
            &format!("env | grep -i _proxy | sort; curl -sS http://127.0.0.1:{port}/from-bash"),
        )
        .await;
    assert_eq!(
        out.stdout,
        "HTTPS_PROXY=http://127.0.0.1:3128\nHTTP_PROXY=http://127.0.0.1:3128\n\
         http_proxy=http://127.0.0.1:3128\nhttps_proxy=http://127.0.0.1:3128\nhello",
        "{out:?}"
    );
    assert_eq!(
        seen.recv().await.as_deref(),
        Some("GET /from-bash HTTP/1.1")
    );

    // Without the proxy there is no way out: the namespace has only loopback, where nothing
    // of the host listens.
    let got = h
        .eval(
            &s,
            &format!(
                "{ATTEMPT}(attempt(lambda: socket.create_connection(('127.0.0.1', {port}), timeout=5)), \
                 attempt(lambda: socket.create_connection(('1.1.1.1', 80), timeout=5)), \
                 sorted(n for _, n in socket.if_nameindex()))"
            ),
        )
        .await;
    assert!(
        got.starts_with("('ConnectionRefusedError: ") && got.contains("'OSError: "),
        "{got}"
    );
    assert!(got.ends_with(", ['lo'])"), "only loopback: {got}");

    // The environment is bubblewrap's usual variables plus the proxy ones.
    assert_eq!(
        h.eval(&s, "import os\nsorted(os.environ.items())").await,
        "[('HOME', '/tmp'), ('HTTPS_PROXY', 'http://127.0.0.1:3128'), \
         ('HTTP_PROXY', 'http://127.0.0.1:3128'), ('LANG', 'C.UTF-8'), \
         ('PATH', '/usr/local/bin:/usr/bin:/bin'), ('PWD', '/mnt/files'), ('TMPDIR', '/tmp'), \
         ('http_proxy', 'http://127.0.0.1:3128'), ('https_proxy', 'http://127.0.0.1:3128')]"
    );
    // The proxy's socket can be used, not replaced.
    let unlink = h
        .eval(
            &s,
            "try:\n    os.unlink('/run/workbench/egress.sock')\n    r = 'removed'\n\
             except OSError as e:\n    r = type(e).__name__\nr",
        )
        .await;
    assert_ne!(unlink, "'removed'");
    assert!(seen.try_recv().is_err(), "nothing else reached the host");
    h.wb.shutdown().await;
}

#[tokio::test]
async fn the_default_policy_refuses_loopback_private_and_metadata_addresses() {
    let (port, mut seen) = origin().await;
    let h = Harness::with_egress(
        EgressConfig {
            ports: ports(port),
            ..EgressConfig::default()
        },
        |_| {},
    )
    .await;
    let s = session();
    let code = format!(
        "{ATTEMPT}[attempt(lambda: get(u)) for u in ['http://127.0.0.1:{port}/x', \
         'http://localhost:{port}/x', 'http://[::1]:{port}/x', \
         'http://169.254.169.254/latest/meta-data/', 'http://10.0.0.1/']] + \
         [attempt(lambda: through_proxy('CONNECT 10.0.0.1:443 HTTP/1.1\\r\\n\\r\\n')).splitlines()[-1], \
         attempt(lambda: get('https://10.0.0.1/'))]"
    );
    let got = h.eval(&s, &code).await.replace(&port.to_string(), "PORT");
    let expected = [
        "(403, 'refused: 127.0.0.1 (127.0.0.1) is a loopback address; the operator has not allowed it')",
        "(403, 'refused: localhost (127.0.0.1) is a loopback address; the operator has not allowed it')",
        "(403, 'refused: ::1 (::1) is a loopback address; the operator has not allowed it')",
        "(403, 'refused: 169.254.169.254 (169.254.169.254) is a link-local (cloud metadata) address; the operator has not allowed it')",
        "(403, 'refused: 10.0.0.1 (10.0.0.1) is a private address; the operator has not allowed it')",
        "'refused: 10.0.0.1 (10.0.0.1) is a private address; the operator has not allowed it'",
        "'URLError: <urlopen error Tunnel connection failed: 403 Forbidden>'",
    ];
    assert_eq!(got, format!("[{}]", expected.join(", ")));
    assert!(seen.try_recv().is_err(), "nothing reached the host");
    h.wb.shutdown().await;
}

#[tokio::test]
async fn the_fallback_gets_no_egress() {
    let h = Harness::with_egress(EgressConfig::default(), |c| {
        c.isolation = IsolationPreference::Fallback;
    })
    .await;
    assert!(!h.wb.status().egress);
    let s = session();
    assert_eq!(
        h.eval(&s, "import os\nsorted(os.environ)").await,
        "['HOME', 'LANG', 'PATH', 'TMPDIR']"
    );
    h.wb.shutdown().await;
}
