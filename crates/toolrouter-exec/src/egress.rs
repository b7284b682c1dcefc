//! The workbench's egress proxy: the one way sandboxed code reaches the network, when the
//! operator enables it.
//!
//! Sandboxes have their own network namespace with only loopback; the workbench bind-mounts this
//! proxy's unix socket into them and the in-sandbox driver relays `127.0.0.1:3128` to it. The
//! proxy speaks HTTP/1.1 forward-proxy: `CONNECT host:port` (HTTPS, then bytes both ways) and
//! absolute-form `http://` requests (rewritten to origin-form, `Connection: close`, then bytes
//! both ways). For every request it resolves the host once, checks *every* resolved address with
//! the same [`OutboundPolicy`] as tool calls (loopback, private, link-local and the metadata
//! address are refused unless the operator allows them), and connects only to those checked
//! addresses: there is no second resolution, so DNS rebinding gains nothing. Only the ports the
//! operator allows (80 and 443 by default) are reachable. Refusals are `403` with a short reason;
//! an unresolvable or unreachable host is `502`, a malformed request `400`. Each decision is
//! logged (peer uid, host, port, outcome); bodies never are.
//!
//! No credential passes through here: the proxy adds nothing to requests and strips
//! `Proxy-Authorization`.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UnixListener, UnixStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::guard::OutboundPolicy;
use crate::idle::{Activity, Watched};

/// What the egress proxy lets through, and how long it waits.
#[derive(Debug, Clone)]
pub struct EgressConfig {
    /// Which non-public destinations are allowed (public addresses always are).
    pub policy: OutboundPolicy,
    /// Destination ports allowed (default 80 and 443).
    pub ports: BTreeSet<u16>,
    /// When set, only peers (checked with `SO_PEERCRED`) whose uid is in this range are served:
    /// the workbench's sandbox uids. The socket itself must be connectable by those uids.
    pub peer_uids: Option<Range<u32>>,
    /// Resolution plus connection to the destination (default 10 s).
    pub connect_timeout: Duration,
    /// Time a client has to send its request head (default 30 s).
    pub head_timeout: Duration,
    /// A tunnel or request in which no byte moved either way for this long is closed
    /// (default 5 min).
    pub idle_timeout: Duration,
    /// Largest request head accepted (default 16 KiB).
    pub max_head_bytes: usize,
    /// Connections served at once; further ones wait (default 512). Each holds two of the
    /// server's file descriptors.
    pub max_connections: usize,
    /// Connections one peer uid (one sandbox) may hold at once, so a sandbox cannot take every
    /// connection from the others; further ones are answered `429` (default 64).
    pub max_connections_per_peer: usize,
}

impl Default for EgressConfig {
    fn default() -> EgressConfig {
        EgressConfig {
            policy: OutboundPolicy::public_only(),
            ports: BTreeSet::from([80, 443]),
            peer_uids: None,
            connect_timeout: Duration::from_secs(10),
            head_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(300),
            max_head_bytes: 16 * 1024,
            max_connections: 512,
            max_connections_per_peer: 64,
        }
    }
}

/// Binds the proxy's socket at `path` (replacing a stale one) with mode 0666: sandbox uids are
/// unprivileged and each differs, so they connect as "others". Set
/// [`EgressConfig::peer_uids`] to serve only them. Must run inside a tokio runtime.
pub fn bind_egress_socket(path: &Path) -> io::Result<UnixListener> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666))?;
    Ok(listener)
}

/// Serves the proxy on `listener` until `shutdown` resolves; connections still open then are
/// dropped.
pub async fn serve_egress(
    listener: UnixListener,
    config: EgressConfig,
    shutdown: impl Future<Output = ()>,
) {
    let config = Arc::new(config);
    let slots = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let per_peer = Arc::new(Mutex::new(HashMap::new()));
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            p = Arc::clone(&slots).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "egress proxy: accept failed");
                    continue;
                }
            },
        };
        // Reap finished connections so the set does not grow with the server's lifetime.
        while connections.try_join_next().is_some() {}
        let uid = stream.peer_cred().ok().map(|c| c.uid());
        let Some(peer_slot) = PeerSlot::take(&per_peer, uid, config.max_connections_per_peer)
        else {
            tracing::warn!(peer_uid = ?uid, "egress proxy: too many connections from one peer");
            // Answered without waiting for the request (a task per refused connection would
            // give the flood what the limit takes away), so a client that has already written
            // may see only the connection close.
            let _ = stream.try_write(&response(
                Status::TooManyRequests,
                "refused: too many connections from this sandbox at once",
            ));
            continue;
        };
        let config = Arc::clone(&config);
        connections.spawn(async move {
            serve_connection(stream, uid, &config).await;
            drop((permit, peer_slot));
        });
    }
    connections.shutdown().await;
}

/// One client connection: one request, then (if allowed) bytes both ways until it ends.
/// One of a peer's connections, counted until dropped.
struct PeerSlot {
    counts: Arc<Mutex<HashMap<Option<u32>, usize>>>,
    uid: Option<u32>,
}

impl PeerSlot {
    fn take(
        counts: &Arc<Mutex<HashMap<Option<u32>, usize>>>,
        uid: Option<u32>,
        max: usize,
    ) -> Option<PeerSlot> {
        let mut map = counts.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(uid).or_insert(0);
        if *n >= max.max(1) {
            return None;
        }
        *n += 1;
        Some(PeerSlot {
            counts: Arc::clone(counts),
            uid,
        })
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut map = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.uid) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.uid);
            }
        }
    }
}

async fn serve_connection(mut client: UnixStream, uid: Option<u32>, config: &EgressConfig) {
    let (head, rest) =
        match tokio::time::timeout(config.head_timeout, read_head(&mut client, config)).await {
            Ok(Ok(read)) => read,
            Ok(Err(HeadError::Closed)) => return,
            Ok(Err(HeadError::TooLarge)) => {
                let _ = answer(
                    &mut client,
                    Status::BadRequest,
                    "bad request: the request head is too large",
                )
                .await;
                return;
            }
            Err(_) => {
                let _ = answer(
                    &mut client,
                    Status::BadRequest,
                    "bad request: no complete request head in time",
                )
                .await;
                return;
            }
        };
    // Checked after reading the head: closing with unread input would reset the connection
    // instead of delivering the answer.
    if let Some(range) = &config.peer_uids
        && !uid.is_some_and(|u| range.contains(&u))
    {
        tracing::warn!(
            peer_uid = ?uid,
            "egress proxy: refused a connection from outside the sandbox uids"
        );
        let _ = answer(
            &mut client,
            Status::Forbidden,
            "refused: this proxy serves workbench sandboxes only",
        )
        .await;
        return;
    }
    let request = match parse_head(&head) {
        Ok(r) => r,
        Err(BadRequest(why)) => {
            tracing::info!(peer_uid = ?uid, reason = %why, "egress proxy: bad request");
            let _ = answer(
                &mut client,
                Status::BadRequest,
                &format!("bad request: {why}"),
            )
            .await;
            return;
        }
    };
    let (host, port) = (request.target.host(), request.target.port());
    let upstream = match open(config, host, port).await {
        Ok((upstream, ip)) => {
            tracing::info!(peer_uid = ?uid, host, port, %ip, kind = request.target.kind(), "egress proxy: allowed");
            upstream
        }
        Err((status, why)) => {
            tracing::info!(peer_uid = ?uid, host, port, kind = request.target.kind(), status = status.code(), reason = %why, "egress proxy: refused");
            let _ = answer(&mut client, status, &why).await;
            return;
        }
    };
    let result = match &request.target {
        Target::Connect { .. } => tunnel(client, upstream, &rest, config.idle_timeout).await,
        Target::Forward { .. } => {
            let head = request.upstream_head();
            forward(client, upstream, &head, &rest, config.idle_timeout).await
        }
    };
    if let Err(e) = result {
        tracing::debug!(peer_uid = ?uid, host, port, error = %e, "egress proxy: connection ended with an error");
    }
}

enum HeadError {
    Closed,
    TooLarge,
}

/// Reads up to the blank line ending the head; returns the head and any bytes after it.
async fn read_head(
    client: &mut UnixStream,
    config: &EgressConfig,
) -> Result<(Vec<u8>, Vec<u8>), HeadError> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let n = client
            .read(&mut chunk)
            .await
            .map_err(|_| HeadError::Closed)?;
        if n == 0 {
            return Err(HeadError::Closed);
        }
        let searched_from = buf.len().saturating_sub(3);
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = head_end(&buf, searched_from) {
            let rest = buf.split_off(end);
            return Ok((buf, rest));
        }
        if buf.len() > config.max_head_bytes {
            return Err(HeadError::TooLarge);
        }
    }
}

/// The index just past the head's terminating blank line (`\r\n\r\n`, or `\n\n`).
fn head_end(buf: &[u8], from: usize) -> Option<usize> {
    (from..buf.len()).find_map(|i| {
        if buf[i..].starts_with(b"\r\n\r\n") {
            Some(i + 4)
        } else if buf[i..].starts_with(b"\n\n") {
            Some(i + 2)
        } else {
            None
        }
    })
}

/// Resolves `host` once, checks every address, connects to a checked one.
async fn open(
    config: &EgressConfig,
    host: &str,
    port: u16,
) -> Result<(TcpStream, IpAddr), (Status, String)> {
    if !config.ports.contains(&port) {
        let allowed: Vec<String> = config.ports.iter().map(u16::to_string).collect();
        return Err((
            Status::Forbidden,
            format!(
                "refused: port {port} is not allowed (allowed: {})",
                allowed.join(", ")
            ),
        ));
    }
    let work = async {
        let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => match tokio::net::lookup_host((host, port)).await {
                Ok(found) => found.collect(),
                Err(_) => Vec::new(),
            },
        };
        if addrs.is_empty() {
            return Err((Status::BadGateway, format!("cannot resolve {host}")));
        }
        // Every address must pass: a name that mixes public and private addresses is refused
        // rather than filtered. Checked in address order so the reason given is stable.
        let mut checked = addrs.clone();
        checked.sort();
        for addr in &checked {
            if let Err(refused) = config.policy.check(host, addr.ip()) {
                return Err((Status::Forbidden, refusal(&refused)));
            }
        }
        let mut last = None;
        for addr in &addrs {
            match TcpStream::connect(addr).await {
                Ok(stream) => return Ok((stream, addr.ip())),
                Err(e) => last = Some(e),
            }
        }
        Err((
            Status::BadGateway,
            format!(
                "cannot connect to {host}:{port}: {}",
                last.map_or_else(|| "no address".to_owned(), |e| e.to_string())
            ),
        ))
    };
    tokio::time::timeout(config.connect_timeout, work)
        .await
        .unwrap_or_else(|_| {
            Err((
                Status::GatewayTimeout,
                format!(
                    "cannot reach {host}:{port} within {} s",
                    config.connect_timeout.as_secs()
                ),
            ))
        })
}

/// The refusal as the client reads it, e.g. `refused: 10.0.0.5 (10.0.0.5) is a private
/// address; the operator has not allowed it`.
fn refusal(r: &crate::guard::Refused) -> String {
    format!(
        "refused: {} ({}) is a {} address; the operator has not allowed it",
        r.host, r.ip, r.reason
    )
}

/// `CONNECT`: confirm, pass on bytes the client already sent, then copy both ways until either
/// side closes or nothing moved for `idle`.
async fn tunnel(
    mut client: UnixStream,
    mut upstream: TcpStream,
    early: &[u8],
    idle: Duration,
) -> io::Result<()> {
    client
        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        .await?;
    upstream.write_all(early).await?;
    let activity = Activity::new();
    let mut client = Watched::new(client, &activity);
    let mut upstream = Watched::new(upstream, &activity);
    activity
        .until_idle(idle, async {
            tokio::io::copy_bidirectional(&mut client, &mut upstream)
                .await
                .map(drop)
        })
        .await
}

/// A plain request: send the rewritten head and what followed it, then copy both ways until the
/// response has been passed on (the upstream closes: `Connection: close`).
async fn forward(
    client: UnixStream,
    mut upstream: TcpStream,
    head: &[u8],
    early: &[u8],
    idle: Duration,
) -> io::Result<()> {
    upstream.write_all(head).await?;
    upstream.write_all(early).await?;
    let activity = Activity::new();
    let (mut client_read, mut client_write) = tokio::io::split(Watched::new(client, &activity));
    let (mut upstream_read, mut upstream_write) =
        tokio::io::split(Watched::new(upstream, &activity));
    let request_body = async {
        let _ = tokio::io::copy(&mut client_read, &mut upstream_write).await;
        let _ = upstream_write.shutdown().await;
        // The response decides when this connection ends.
        std::future::pending::<()>().await;
    };
    let response = async {
        let copied = tokio::io::copy(&mut upstream_read, &mut client_write).await;
        let _ = client_write.shutdown().await;
        copied.map(drop)
    };
    activity
        .until_idle(idle, async {
            tokio::select! {
                () = request_body => Ok(()),
                r = response => r,
            }
        })
        .await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    BadRequest,
    Forbidden,
    TooManyRequests,
    BadGateway,
    GatewayTimeout,
}

impl Status {
    fn code(self) -> u16 {
        match self {
            Status::BadRequest => 400,
            Status::Forbidden => 403,
            Status::TooManyRequests => 429,
            Status::BadGateway => 502,
            Status::GatewayTimeout => 504,
        }
    }

    fn phrase(self) -> &'static str {
        match self {
            Status::BadRequest => "Bad Request",
            Status::Forbidden => "Forbidden",
            Status::TooManyRequests => "Too Many Requests",
            Status::BadGateway => "Bad Gateway",
            Status::GatewayTimeout => "Gateway Timeout",
        }
    }
}

/// The proxy's own answer: a status and a one-line plain-text reason.
fn response(status: Status, text: &str) -> Vec<u8> {
    let body = format!("{text}\n");
    format!(
        "HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        status.code(),
        status.phrase(),
        body.len()
    )
    .into_bytes()
}

async fn answer(client: &mut UnixStream, status: Status, text: &str) -> io::Result<()> {
    client.write_all(&response(status, text)).await?;
    client.shutdown().await
}

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// `CONNECT host:port`.
    Connect { host: String, port: u16 },
    /// An absolute-form `http://` request, sent on as `path` (origin-form).
    Forward {
        host: String,
        port: u16,
        path: String,
    },
}

impl Target {
    fn host(&self) -> &str {
        match self {
            Target::Connect { host, .. } | Target::Forward { host, .. } => host,
        }
    }

    fn port(&self) -> u16 {
        match self {
            Target::Connect { port, .. } | Target::Forward { port, .. } => *port,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Target::Connect { .. } => "connect",
            Target::Forward { .. } => "http",
        }
    }
}

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Request {
    method: String,
    target: Target,
    /// `HTTP/1.0` or `HTTP/1.1`, kept so a 1.0 client gets a response it can read.
    version: String,
    headers: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct BadRequest(String);

fn bad(why: impl Into<String>) -> BadRequest {
    BadRequest(why.into())
}

/// Headers that concern only the hop to this proxy, never sent on.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "proxy-connection",
    "keep-alive",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "upgrade",
    "host",
];

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn parse_head(head: &[u8]) -> Result<Request, BadRequest> {
    let text = std::str::from_utf8(head).map_err(|_| bad("the request head is not UTF-8"))?;
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let line = lines.next().unwrap_or_default();
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad(format!("malformed request line `{}`", clip(line))));
    };
    if !is_token(method) {
        return Err(bad(format!("malformed method `{}`", clip(method))));
    }
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        return Err(bad(format!("unsupported version `{}`", clip(version))));
    }
    let target = if method == "CONNECT" {
        let (host, port) = authority(target, None)?;
        Target::Connect { host, port }
    } else {
        absolute_http(target)?
    };
    let mut headers = Vec::new();
    for line in lines {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            return Err(bad("folded header lines are not supported"));
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(bad(format!("malformed header line `{}`", clip(line))));
        };
        if !is_token(name) || value.contains(['\r', '\0']) {
            return Err(bad(format!("malformed header `{}`", clip(name))));
        }
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    Ok(Request {
        method: method.to_owned(),
        target,
        version: version.to_owned(),
        headers,
    })
}

/// At most 60 characters of client input, for messages.
fn clip(s: &str) -> String {
    s.chars().take(60).collect()
}

/// `http://authority/path?query` → host, port and origin-form path (fragment dropped).
fn absolute_http(target: &str) -> Result<Target, BadRequest> {
    let scheme_end = target.find("://");
    let Some(scheme_end) = scheme_end else {
        return Err(bad(
            "the target must be an absolute http:// URL (this is a proxy)",
        ));
    };
    let scheme = &target[..scheme_end];
    if !scheme.eq_ignore_ascii_case("http") {
        return Err(bad(format!(
            "scheme `{}` is not proxied as a plain request; use CONNECT for https",
            clip(scheme)
        )));
    }
    let rest = &target[scheme_end + 3..];
    let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (auth, path) = rest.split_at(split);
    let (host, port) = authority(auth, Some(80))?;
    let path = path.split('#').next().unwrap_or_default();
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    Ok(Target::Forward { host, port, path })
}

/// `host[:port]` or `[v6][:port]`; the host is lower-cased and unbracketed.
fn authority(auth: &str, default_port: Option<u16>) -> Result<(String, u16), BadRequest> {
    if auth.contains('@') {
        return Err(bad("credentials in the URL are not supported"));
    }
    let bracketed = auth.starts_with('[');
    let (host, port) = if let Some(v6) = auth.strip_prefix('[') {
        let Some((ip, after)) = v6.split_once(']') else {
            return Err(bad(format!("malformed host `{}`", clip(auth))));
        };
        if ip.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(bad(format!("malformed IPv6 address `{}`", clip(ip))));
        }
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| bad(format!("malformed host `{}`", clip(auth))))?,
            ),
        };
        (ip, port)
    } else {
        match auth.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (auth, None),
        }
    };
    let host_ok = bracketed
        || (!host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)));
    if !host_ok {
        return Err(bad(format!("malformed host `{}`", clip(host))));
    }
    let port = match (port, default_port) {
        (Some(p), _) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| bad(format!("malformed port `{}`", clip(p))))?,
        (None, Some(d)) => d,
        (None, None) => return Err(bad("CONNECT needs host:port")),
    };
    Ok((host.to_ascii_lowercase(), port))
}

impl Request {
    /// The head sent upstream for a plain request: origin-form target, `Host` from the URL,
    /// hop-by-hop headers (and those `Connection` names) dropped, `Connection: close`.
    fn upstream_head(&self) -> Vec<u8> {
        let Target::Forward { host, port, path } = &self.target else {
            return Vec::new();
        };
        let named_by_connection: Vec<String> = self
            .headers
            .iter()
            .filter(|(n, _)| {
                n.eq_ignore_ascii_case("connection") || n.eq_ignore_ascii_case("proxy-connection")
            })
            .flat_map(|(_, v)| v.split(','))
            .map(|t| t.trim().to_ascii_lowercase())
            .collect();
        let host_header = match (host.contains(':'), *port) {
            (true, 80) => format!("[{host}]"),
            (true, p) => format!("[{host}]:{p}"),
            (false, 80) => host.clone(),
            (false, p) => format!("{host}:{p}"),
        };
        let mut out = format!(
            "{} {path} {}\r\nHost: {host_header}\r\n",
            self.method, self.version
        );
        for (name, value) in &self.headers {
            let lower = name.to_ascii_lowercase();
            if HOP_BY_HOP.contains(&lower.as_str()) || named_by_connection.contains(&lower) {
                continue;
            }
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        out.push_str("Connection: close\r\n\r\n");
        out.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    fn check(head: &str, expected: &expect_test::Expect) {
        let got = match parse_head(head.as_bytes()) {
            Ok(r) => match &r.target {
                Target::Connect { host, port } => format!("CONNECT host={host} port={port}"),
                Target::Forward { host, port, path } => {
                    format!("{} host={host} port={port} path={path}", r.method)
                }
            },
            Err(BadRequest(why)) => format!("400 {why}"),
        };
        expected.assert_eq(&got);
    }

    #[test]
    fn parses_request_lines() {
        check(
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
            &expect!["CONNECT host=example.com port=443"],
        );
        check(
            "CONNECT [::1]:443 HTTP/1.1\r\n\r\n",
            &expect!["CONNECT host=::1 port=443"],
        );
        check(
            "GET http://Example.COM/a/b?c=d#frag HTTP/1.1\r\n\r\n",
            &expect!["GET host=example.com port=80 path=/a/b?c=d"],
        );
        check(
            "POST http://10.0.0.5:8080 HTTP/1.0\n\n",
            &expect!["POST host=10.0.0.5 port=8080 path=/"],
        );
        check(
            "GET http://[::1]:3000?x HTTP/1.1\r\n\r\n",
            &expect!["GET host=::1 port=3000 path=/?x"],
        );
        check(
            "GET /relative HTTP/1.1\r\n\r\n",
            &expect!["400 the target must be an absolute http:// URL (this is a proxy)"],
        );
        check(
            "GET https://example.com/ HTTP/1.1\r\n\r\n",
            &expect!["400 scheme `https` is not proxied as a plain request; use CONNECT for https"],
        );
        check(
            "GET http://user:pw@example.com/ HTTP/1.1\r\n\r\n",
            &expect!["400 credentials in the URL are not supported"],
        );
        check(
            "CONNECT example.com HTTP/1.1\r\n\r\n",
            &expect!["400 CONNECT needs host:port"],
        );
        check(
            "CONNECT example.com:99999 HTTP/1.1\r\n\r\n",
            &expect!["400 malformed port `99999`"],
        );
        check(
            "CONNECT exa mple.com:443 HTTP/1.1\r\n\r\n",
            &expect!["400 malformed request line `CONNECT exa mple.com:443 HTTP/1.1`"],
        );
        check(
            "GET http://exa%2fmple.com/ HTTP/1.1\r\n\r\n",
            &expect!["400 malformed host `exa%2fmple.com`"],
        );
        check(
            "GET http://[::1/ HTTP/1.1\r\n\r\n",
            &expect!["400 malformed host `[::1`"],
        );
        check(
            "GET http://example.com/ HTTP/2\r\n\r\n",
            &expect!["400 unsupported version `HTTP/2`"],
        );
        check(
            "GET http://example.com/ HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n",
            &expect!["400 folded header lines are not supported"],
        );
        check(
            "GET http://example.com/ HTTP/1.1\r\nno colon\r\n\r\n",
            &expect!["400 malformed header line `no colon`"],
        );
    }

    #[test]
    fn plain_requests_are_rewritten_to_origin_form() {
        let request = parse_head(
            b"GET http://example.com:8080/x?y HTTP/1.1\r\nHost: evil.example\r\nUser-Agent: t\r\n\
              Proxy-Connection: keep-alive\r\nConnection: keep-alive, X-Secret-Hop\r\n\
              X-Secret-Hop: 1\r\nProxy-Authorization: Basic abc\r\nContent-Length: 3\r\n\r\n",
        )
        .expect("parses");
        expect![[r#"
            GET /x?y HTTP/1.1
            Host: example.com:8080
            User-Agent: t
            Content-Length: 3
            Connection: close

        "#]]
        .assert_eq(
            &String::from_utf8(request.upstream_head())
                .expect("utf-8")
                .replace('\r', ""),
        );
    }

    #[test]
    fn finds_the_end_of_the_head() {
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n\r\nbody", 0), Some(18));
        assert_eq!(head_end(b"GET / HTTP/1.1\n\nbody", 0), Some(16));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: x\r\n", 0), None);
    }

    /// A proxy on a socket in a fresh directory, and an origin server on loopback that answers
    /// `hello` and reports each request line it got.
    struct Fixture {
        _dir: tempfile::TempDir,
        socket: std::path::PathBuf,
        origin_port: u16,
        seen: tokio::sync::mpsc::UnboundedReceiver<String>,
    }

    async fn fixture(config: impl FnOnce(u16) -> EgressConfig) -> Fixture {
        let origin = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let origin_port = origin.local_addr().expect("addr").port();
        let (tx, seen) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = origin.accept().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 1024];
                    while head_end(&buf, 0).is_none() {
                        match s.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let text = String::from_utf8_lossy(&buf).into_owned();
                    let _ = tx.send(text.lines().next().unwrap_or_default().to_owned());
                    let _ = s
                        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
                        .await;
                });
            }
        });
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = dir.path().join("egress.sock");
        let listener = bind_egress_socket(&socket).expect("bind the socket");
        tokio::spawn(serve_egress(
            listener,
            config(origin_port),
            std::future::pending(),
        ));
        Fixture {
            _dir: dir,
            socket,
            origin_port,
            seen,
        }
    }

    /// Sends `request` through the proxy and returns everything it answers.
    async fn exchange(socket: &Path, request: &str) -> String {
        let mut s = UnixStream::connect(socket).await.expect("connect");
        s.write_all(request.as_bytes()).await.expect("write");
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.expect("read");
        String::from_utf8_lossy(&out).into_owned()
    }

    fn allowing_loopback(port: u16) -> EgressConfig {
        EgressConfig {
            policy: OutboundPolicy::public_only().allow_host("127.0.0.1"),
            ports: BTreeSet::from([80, 443, port]),
            ..EgressConfig::default()
        }
    }

    #[tokio::test]
    async fn forwards_allowed_requests_and_tunnels() {
        let mut f = fixture(allowing_loopback).await;
        let port = f.origin_port;
        let got = exchange(
            &f.socket,
            &format!("GET http://127.0.0.1:{port}/x?y HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
        )
        .await;
        assert!(got.starts_with("HTTP/1.1 200 OK\r\n"), "{got}");
        assert!(got.ends_with("\r\n\r\nhello"), "{got}");
        assert_eq!(f.seen.recv().await.as_deref(), Some("GET /x?y HTTP/1.1"));

        let mut s = UnixStream::connect(&f.socket).await.expect("connect");
        s.write_all(
            format!("CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\nGET /t HTTP/1.1\r\n\r\n").as_bytes(),
        )
        .await
        .expect("write");
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.expect("read");
        let got = String::from_utf8_lossy(&out);
        assert!(
            got.starts_with("HTTP/1.1 200 Connection Established\r\n\r\nHTTP/1.1 200 OK"),
            "{got}"
        );
        assert_eq!(f.seen.recv().await.as_deref(), Some("GET /t HTTP/1.1"));
    }

    #[tokio::test]
    async fn a_tunnel_nobody_uses_is_closed() {
        let f = fixture(|port| EgressConfig {
            idle_timeout: Duration::from_millis(200),
            ..allowing_loopback(port)
        })
        .await;
        let port = f.origin_port;
        let mut s = UnixStream::connect(&f.socket).await.expect("connect");
        // The origin waits for a request that never comes; nothing moves either way.
        s.write_all(format!("CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\n").as_bytes())
            .await
            .expect("write");
        let mut out = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
            .await
            .expect("the proxy closes the idle tunnel")
            .expect("read");
        assert_eq!(
            String::from_utf8_lossy(&out),
            "HTTP/1.1 200 Connection Established\r\n\r\n"
        );
    }

    #[tokio::test]
    async fn refuses_non_public_destinations_ports_and_bad_requests() {
        let mut f = fixture(|port| EgressConfig {
            ports: BTreeSet::from([80, 443, port]),
            ..EgressConfig::default()
        })
        .await;
        let port = f.origin_port;
        let body = |response: String| {
            let (head, body) = response.split_once("\r\n\r\n").expect("a response");
            format!(
                "{} | {}",
                head.lines().next().unwrap_or_default(),
                body.trim_end()
            )
        };
        let cases = [
            format!("GET http://127.0.0.1:{port}/x HTTP/1.1\r\n\r\n"),
            format!("GET http://localhost:{port}/x HTTP/1.1\r\n\r\n"),
            format!("GET http://[::1]:{port}/x HTTP/1.1\r\n\r\n"),
            "GET http://169.254.169.254/latest/meta-data/ HTTP/1.1\r\n\r\n".to_owned(),
            "CONNECT 10.0.0.1:443 HTTP/1.1\r\n\r\n".to_owned(),
            "CONNECT 8.8.8.8:22 HTTP/1.1\r\n\r\n".to_owned(),
            "GET http://[::ffff:10.1.2.3]/ HTTP/1.1\r\n\r\n".to_owned(),
            "BREW coffee\r\n\r\n".to_owned(),
        ];
        let mut got = Vec::new();
        for request in &cases {
            got.push(body(exchange(&f.socket, request).await));
        }
        let got = got.join("\n").replace(&port.to_string(), "PORT");
        expect![[r#"
            HTTP/1.1 403 Forbidden | refused: 127.0.0.1 (127.0.0.1) is a loopback address; the operator has not allowed it
            HTTP/1.1 403 Forbidden | refused: localhost (127.0.0.1) is a loopback address; the operator has not allowed it
            HTTP/1.1 403 Forbidden | refused: ::1 (::1) is a loopback address; the operator has not allowed it
            HTTP/1.1 403 Forbidden | refused: 169.254.169.254 (169.254.169.254) is a link-local (cloud metadata) address; the operator has not allowed it
            HTTP/1.1 403 Forbidden | refused: 10.0.0.1 (10.0.0.1) is a private address; the operator has not allowed it
            HTTP/1.1 403 Forbidden | refused: port 22 is not allowed (allowed: 80, 443, PORT)
            HTTP/1.1 403 Forbidden | refused: ::ffff:10.1.2.3 (10.1.2.3) is a private address; the operator has not allowed it
            HTTP/1.1 400 Bad Request | bad request: malformed request line `BREW coffee`"#]]
        .assert_eq(&got);
        assert!(f.seen.try_recv().is_err(), "nothing reached the origin");
    }

    #[tokio::test]
    async fn only_the_configured_peers_are_served() {
        let me = nix_free_uid();
        let f = fixture(|port| EgressConfig {
            peer_uids: Some(me + 1..me + 2),
            ..allowing_loopback(port)
        })
        .await;
        let got = exchange(
            &f.socket,
            &format!("GET http://127.0.0.1:{}/ HTTP/1.1\r\n\r\n", f.origin_port),
        )
        .await;
        assert!(
            got.starts_with("HTTP/1.1 403 Forbidden") && got.contains("workbench sandboxes only"),
            "{got}"
        );
    }

    #[tokio::test]
    async fn one_peer_cannot_take_every_connection() {
        let f = fixture(|port| EgressConfig {
            max_connections_per_peer: 1,
            ..allowing_loopback(port)
        })
        .await;
        // The first connection holds this peer's only slot while its request is pending.
        let mut first = UnixStream::connect(&f.socket).await.expect("connect");
        // The second is answered at once (a client that writes first may see only the close).
        let mut second = UnixStream::connect(&f.socket).await.expect("connect");
        let mut got = String::new();
        second.read_to_string(&mut got).await.expect("read");
        assert!(
            got.starts_with("HTTP/1.1 429 Too Many Requests")
                && got.contains("too many connections"),
            "{got}"
        );
        first
            .write_all(b"CONNECT 10.0.0.1:443 HTTP/1.1\r\n\r\n")
            .await
            .expect("write");
        let mut out = String::new();
        first.read_to_string(&mut out).await.expect("read");
        assert!(out.starts_with("HTTP/1.1 403 Forbidden"), "{out}");
    }

    /// This process's uid, read from the socket's own credentials (no libc dependency).
    fn nix_free_uid() -> u32 {
        let (a, _b) = std::os::unix::net::UnixStream::pair().expect("pair");
        a.set_nonblocking(true).expect("nonblocking");
        let a = UnixStream::from_std(a).expect("tokio stream");
        a.peer_cred().expect("peer cred").uid()
    }
}
