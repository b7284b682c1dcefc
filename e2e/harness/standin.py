"""Local stand-ins for the third-party APIs the seed examples execute: GitHub, Gmail and Slack.

toolrouter is started with `--toolkit-base-url github=<this>/github` (and gmail, slack), so every
tool call of those toolkits lands here instead of the real API. Each route checks the request the
way the real API documents it (method, path, `Authorization: Bearer <token>`, body shape) and
answers with the real API's response shape, including its error shapes (GitHub 401/422 JSON,
Google's `{"error": {...}}`, Slack's HTTP 200 `{"ok": false}`).

Every request is recorded, so a test can assert what reached the upstream and with which
credential: `GET /__standin/requests` returns them (newest last).

Tokens are chosen by the tests. By convention the part after the last `_` is who the token
belongs to (`ghp_e2e_alice` -> GitHub login `alice`), so a response also says which account
the call used. A token starting with `revoked` is refused like a revoked token.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Recorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[dict] = []

    def add(self, item: dict) -> None:
        with self._lock:
            self._items.append(item)

    def all(self) -> list[dict]:
        with self._lock:
            return list(self._items)


def _owner(token: str) -> str:
    return token.rsplit("_", 1)[-1] if "_" in token else token


def _bearer(headers) -> str | None:
    value = headers.get("Authorization", "")
    m = re.fullmatch(r"Bearer ([^\s]+)", value)
    return m.group(1) if m else None


# --- GitHub (REST v3) ---------------------------------------------------------------------

def github(method: str, path: str, query: dict, headers, body) -> tuple[int, object]:
    token = _bearer(headers)
    if token is None:
        return 401, {"message": "Requires authentication",
                     "documentation_url": "https://docs.github.com/rest", "status": "401"}
    if token.startswith("revoked"):
        return 401, {"message": "Bad credentials",
                     "documentation_url": "https://docs.github.com/rest", "status": "401"}
    login = _owner(token)
    if method == "GET" and path == "/user":
        return 200, {"login": login, "id": 1000 + len(login), "name": login.title(),
                     "email": f"{login}@example.com", "html_url": f"https://github.com/{login}"}
    m = re.fullmatch(r"/repos/([^/]+)/([^/]+)/issues", path)
    if m and method == "POST":
        if not isinstance(body, dict) or not isinstance(body.get("title"), str) or not body["title"]:
            return 422, {"message": "Validation Failed",
                         "errors": [{"resource": "Issue", "code": "missing_field", "field": "title"}],
                         "documentation_url": "https://docs.github.com/rest/issues/issues#create-an-issue",
                         "status": "422"}
        owner, repo = m.groups()
        return 201, {"id": 1, "number": 42, "title": body["title"], "state": "open",
                     "body": body.get("body"), "labels": [{"name": n} for n in body.get("labels", [])],
                     "html_url": f"https://github.com/{owner}/{repo}/issues/42",
                     "user": {"login": login}}
    m = re.fullmatch(r"/repos/([^/]+)/([^/]+)", path)
    if m and method == "GET":
        owner, repo = m.groups()
        return 200, {"id": 1296269, "name": repo, "full_name": f"{owner}/{repo}", "private": False,
                     "html_url": f"https://github.com/{owner}/{repo}", "default_branch": "main"}
    return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}


# --- Gmail (v1) ----------------------------------------------------------------------------

def _google_error(status: int, message: str, reason: str) -> tuple[int, object]:
    return status, {"error": {"code": status, "message": message,
                              "errors": [{"message": message, "domain": "global", "reason": reason}],
                              "status": {401: "UNAUTHENTICATED", 400: "INVALID_ARGUMENT",
                                         404: "NOT_FOUND"}.get(status, "UNKNOWN")}}


def _raw_headers(raw: str) -> dict | None:
    """Decodes an RFC 2822 message sent as base64url `raw`; None when it is not one."""
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("utf-8")
    except Exception:  # noqa: BLE001 - any decoding failure means a bad request
        return None
    head = text.split("\r\n\r\n", 1)[0]
    out = {}
    for line in head.split("\r\n"):
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip().lower()] = v.strip()
    return out if "to" in out else None


def gmail(method: str, path: str, query: dict, headers, body) -> tuple[int, object]:
    token = _bearer(headers)
    if token is None:
        return _google_error(401, "Request is missing required authentication credential.", "required")
    if token.startswith("revoked"):
        return _google_error(401, "Request had invalid authentication credentials.", "authError")
    owner = _owner(token)
    if not path.startswith("/gmail/v1/users/me/"):
        return _google_error(404, "Requested entity was not found.", "notFound")
    rest = path[len("/gmail/v1/users/me/"):]
    if method == "GET" and rest == "profile":
        return 200, {"emailAddress": f"{owner}@example.com", "messagesTotal": 2, "threadsTotal": 2}
    if method == "GET" and rest == "messages":
        n = int(query.get("maxResults", ["2"])[0])
        msgs = [{"id": f"{owner}-m{i}", "threadId": f"{owner}-t{i}"} for i in range(min(n, 2))]
        return 200, {"messages": msgs, "resultSizeEstimate": len(msgs)}
    if method == "POST" and rest in ("drafts", "messages/send"):
        raw = (body or {}).get("message", {}).get("raw") if rest == "drafts" else (body or {}).get("raw")
        if not isinstance(raw, str):
            return _google_error(400, "Invalid value for ByteString: missing raw", "invalidArgument")
        hdrs = _raw_headers(raw)
        if hdrs is None:
            return _google_error(400, "Invalid To header", "invalidArgument")
        if rest == "drafts":
            return 200, {"id": f"r-{owner}-1", "message": {"id": f"{owner}-d1", "threadId": f"{owner}-d1",
                                                             "labelIds": ["DRAFT"]}}
        return 200, {"id": f"{owner}-s1", "threadId": f"{owner}-s1", "labelIds": ["SENT"]}
    return _google_error(404, "Requested entity was not found.", "notFound")


# --- Slack (Web API) -----------------------------------------------------------------------

def slack(method: str, path: str, query: dict, headers, body) -> tuple[int, object]:
    token = _bearer(headers)
    if token is None:
        return 200, {"ok": False, "error": "not_authed"}
    if token.startswith("revoked"):
        return 200, {"ok": False, "error": "token_revoked"}
    if method == "POST" and path == "/api/chat.postMessage":
        if not isinstance(body, dict) or not body.get("channel"):
            return 200, {"ok": False, "error": "channel_not_found"}
        if not body.get("text") and not body.get("blocks"):
            return 200, {"ok": False, "error": "no_text"}
        ts = "1712345999.000200"
        return 200, {"ok": True, "channel": body["channel"], "ts": ts,
                     "message": {"type": "message", "user": f"U_{_owner(token).upper()}",
                                 "text": body.get("text", ""), "ts": ts}}
    if method == "GET" and path == "/api/auth.test":
        return 200, {"ok": True, "user": _owner(token), "team": "E2E"}
    return 200, {"ok": False, "error": "unknown_method"}


ROUTES = {"github": github, "gmail": gmail, "slack": slack}


def make_handler(recorder: Recorder):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet: tests read the recording instead
            pass

        def _send(self, status: int, payload: object) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if url.path == "/__standin/requests":
                return self._send(200, recorder.all())
            parts = url.path.split("/", 2)
            toolkit = parts[1] if len(parts) > 1 else ""
            route = ROUTES.get(toolkit)
            if route is None:
                return self._send(404, {"message": f"no stand-in for `{toolkit}`"})
            path = "/" + (parts[2] if len(parts) > 2 else "")
            query = parse_qs(url.query)
            body = None
            if raw:
                ctype = self.headers.get("Content-Type", "")
                if not ctype.startswith("application/json"):
                    return self._send(415, {"message": f"expected a JSON body, got `{ctype}`"})
                try:
                    body = json.loads(raw)
                except ValueError:
                    return self._send(400, {"message": "Problems parsing JSON"})
            status, payload = route(self.command, path, query, self.headers, body)
            recorder.add({"toolkit": toolkit, "method": self.command, "path": path,
                          "query": query, "authorization": self.headers.get("Authorization"),
                          "body": body, "status": status})
            self._send(status, payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    return Handler


class StandIn:
    """The stand-in server, on a free loopback port, served from a daemon thread."""

    def __init__(self) -> None:
        self.recorder = Recorder()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(self.recorder))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "StandIn":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
