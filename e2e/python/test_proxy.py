"""`session.proxy_execute` (CONTRACT.md §3.12; issue #5 item 7): an authenticated passthrough
to the toolkit's own API with the user's connected account, limited to the toolkit's base URL.
Depends on the proxy endpoint being served."""

from __future__ import annotations

import pytest

from support import connect, token, upstream_requests


def test_proxy_execute_sends_the_users_credential(composio, user_id):
    tok = token("proxied")
    connect(user_id, "github", tok)
    session = composio.create(user_id=user_id, toolkits=["github"])
    r = session.proxy_execute(toolkit="github", endpoint="/user", method="GET",
                              parameters=[{"name": "per_page", "value": 5, "in": "query"}])
    assert r["status"] == 200 and r["data"]["login"] == "proxied"
    seen = upstream_requests("github", tok)[-1]
    assert seen["path"] == "/user" and seen["query"] == {"per_page": ["5"]}


def test_proxy_execute_posts_a_body(composio, user_id):
    tok = token("poster")
    connect(user_id, "github", tok)
    session = composio.create(user_id=user_id, toolkits=["github"])
    r = session.proxy_execute(toolkit="github", endpoint="/repos/octo/hello/issues", method="POST",
                              body={"title": "From the proxy"})
    assert r["status"] == 201 and r["data"]["title"] == "From the proxy"
    assert upstream_requests("github", tok)[-1]["body"] == {"title": "From the proxy"}


def test_proxy_execute_stays_on_the_toolkits_base_url(composio, user_id):
    tok = token("contained")
    connect(user_id, "github", tok)
    session = composio.create(user_id=user_id, toolkits=["github"])
    with pytest.raises(Exception) as e:
        session.proxy_execute(toolkit="github", endpoint="https://evil.example.net/steal", method="GET")
    assert "evil.example.net" in str(e.value) or "base" in str(e.value).lower()
    assert not upstream_requests("github", tok)
