"""Helpers shared by the Python SDK suite's tests.

The suite runs under e2e/harness/harness.py, which starts toolrouter and the third-party
stand-in and exports COMPOSIO_BASE_URL / COMPOSIO_API_KEY / E2E_STANDIN_URL. The official SDK
reads the first two itself, as in the seed examples (`Composio()`).

Set-up that the seeds leave to the project (auth configs, users' connected accounts) is done
through toolrouter's REST API here (docs/auth.md): an auth config, a connect link, and the
hosted connect page's form submitted with the user's token, exactly as a browser would.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid


BASE = os.environ["COMPOSIO_BASE_URL"]
API_KEY = os.environ["COMPOSIO_API_KEY"]
STANDIN = os.environ["E2E_STANDIN_URL"]
PUBLIC_URL = os.environ.get("E2E_PUBLIC_URL", BASE)

# The field each toolkit's BEARER_TOKEN scheme asks for on the connect page.
TOKEN_FIELD = {"github": "token", "gmail": "access_token", "slack": "token"}


class ApiError(Exception):
    def __init__(self, status: int, body: dict):
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body


def api(method: str, path: str, body: dict | None = None) -> dict:
    """A toolrouter REST call with the project's key (set-up and assertions only)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{BASE}{path}", data=data, method=method,
                                 headers={"x-api-key": API_KEY, "content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        raise ApiError(e.code, json.loads(e.read() or b"{}")) from None


def submit_connect_form(redirect_url: str, toolkit: str, token: str) -> None:
    """What the user does on the hosted connect page: type the token, press Connect."""
    assert redirect_url.startswith(f"{PUBLIC_URL}/link/"), redirect_url
    form = urllib.parse.urlencode({TOKEN_FIELD[toolkit]: token}).encode()
    req = urllib.request.Request(redirect_url, data=form, method="POST",
                                 headers={"content-type": "application/x-www-form-urlencoded"})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        urllib.request.build_opener(NoRedirect).open(req, timeout=30)
    except urllib.error.HTTPError as e:
        # 303 to the callback URL (or the result page) is success.
        assert e.code in (200, 303), f"connect page answered {e.code}: {e.read()[:300]!r}"


def create_auth_config(toolkit: str) -> str:
    """A custom BEARER_TOKEN auth config: the project's own, like `ac_your_github_config`."""
    r = api("POST", "/api/v3.1/auth_configs", {
        "toolkit": {"slug": toolkit},
        "auth_config": {"type": "use_custom_auth", "authScheme": "BEARER_TOKEN",
                        "name": f"{toolkit} e2e {uuid.uuid4().hex[:6]}"},
    })
    return r["auth_config"]["id"]


def connect(user_id: str, toolkit: str, token: str, auth_config_id: str | None = None) -> str:
    """Connects `user_id`'s account on `toolkit` with `token`; returns the ACTIVE account id."""
    ac = auth_config_id or create_auth_config(toolkit)
    link = api("POST", "/api/v3.1/connected_accounts/link", {"auth_config_id": ac, "user_id": user_id})
    submit_connect_form(link["redirect_url"], toolkit, token)
    account = api("GET", f"/api/v3.1/connected_accounts/{link['connected_account_id']}")
    assert account["status"] == "ACTIVE", account
    return account["id"]


def complete_link_later(redirect_url_getter, toolkit: str, token: str) -> threading.Thread:
    """Submits the connect form from another thread while the SDK polls (the user's browser)."""
    def run():
        for _ in range(100):
            url = redirect_url_getter()
            if url:
                submit_connect_form(url, toolkit, token)
                return
            time.sleep(0.05)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def upstream_requests(toolkit: str | None = None, token: str | None = None) -> list[dict]:
    """What reached the third-party stand-in, optionally only one toolkit's / one token's."""
    with urllib.request.urlopen(f"{STANDIN}/__standin/requests", timeout=10) as r:
        items = json.loads(r.read())
    return [i for i in items
            if (toolkit is None or i["toolkit"] == toolkit)
            and (token is None or i["authorization"] == f"Bearer {token}")]


def token(label: str) -> str:
    """A unique upstream token whose owner (after the last `_`) is `label`."""
    return f"tok{uuid.uuid4().hex[:10]}_{label}"


def tool_names(tools) -> list[str]:
    """Names of provider-wrapped tools (OpenAI dicts or OpenAI Agents FunctionTools)."""
    return [t["function"]["name"] if isinstance(t, dict) else t.name for t in tools]


DEFAULT_META = [
    "COMPOSIO_SEARCH_TOOLS",
    "COMPOSIO_GET_TOOL_SCHEMAS",
    "COMPOSIO_MULTI_EXECUTE_TOOL",
    "COMPOSIO_MANAGE_CONNECTIONS",
    "COMPOSIO_REMOTE_WORKBENCH",
    "COMPOSIO_REMOTE_BASH_TOOL",
]
