"""Seed 001's "Composio SDK — Instructions for AI code generators" (native tools, MCP) and seed
002 (concepts: sessions, `composio.use`, the connection flow, every meta tool of its table doing
what the table says), through the official Python SDK against a real toolrouter."""

from __future__ import annotations

import base64

from composio import Composio

from support import (API_KEY, BASE, DEFAULT_META, complete_link_later, connect, token,
                     tool_names, upstream_requests)


def meta(session, slug: str, arguments: dict):
    r = session.execute(slug, arguments=arguments)
    assert r.log_id and r.log_id.startswith("log_"), r
    return r


def test_native_tools_default_provider(user_id):
    # ✅ CORRECT — Python (defaults to OpenAI)
    composio = Composio(allow_tracking=False)
    session = composio.create(user_id=user_id)
    tools = session.tools()
    assert tool_names(tools) == DEFAULT_META
    assert all(t["type"] == "function" for t in tools)


def test_mcp_url_and_headers(composio, user_id):
    session = composio.create(user_id=user_id)
    assert session.mcp.url.startswith(BASE) and session.session_id in session.mcp.url
    assert session.mcp.headers == {"x-api-key": API_KEY}


def test_use_continues_an_existing_session(composio, user_id):
    session = composio.create(user_id=user_id, toolkits=["github"])
    again = composio.use(session.session_id)
    assert again.session_id == session.session_id
    assert again.config.user_id == user_id


def test_search_tools_finds_the_right_tools(composio, user_id):
    session = composio.create(user_id=user_id, toolkits=["gmail", "github", "slack"])
    r = meta(session, "COMPOSIO_SEARCH_TOOLS", {"queries": [
        {"use_case": "send an email to a colleague"},
        {"use_case": "open an issue in a github repository"},
    ]})
    assert r.result_type == "completed", r.error
    email, issue = r.data["results"]
    assert "GMAIL_SEND_EMAIL" in email["primary_tool_slugs"]
    assert "GITHUB_CREATE_ISSUE" in issue["primary_tool_slugs"]
    # Schemas of the top tools, and whether their toolkits are connected.
    assert "GMAIL_SEND_EMAIL" in r.data["tool_schemas"]
    statuses = {s["toolkit"]: s["has_active_connection"] for s in r.data["toolkit_connection_statuses"]}
    assert statuses.get("gmail") is False and statuses.get("github") is False


def test_search_through_session_search(composio, user_id):
    session = composio.create(user_id=user_id, toolkits=["slack"])
    result = session.search(query="post a message to a channel")
    assert result.success
    assert "SLACK_SEND_MESSAGE" in result.results[0].primary_tool_slugs


def test_get_tool_schemas_and_close_matches(composio, user_id):
    session = composio.create(user_id=user_id, toolkits=["gmail"])
    r = meta(session, "COMPOSIO_GET_TOOL_SCHEMAS", {"tool_slugs": ["GMAIL_SEND_EMAIL", "GMAIL_SEND_EMAL"]})
    text = repr(r.data)
    assert "recipient_email" in text  # the input schema of GMAIL_SEND_EMAIL
    assert "GMAIL_SEND_EMAL" in text  # reported as unknown, with a close match
    assert text.count("GMAIL_SEND_EMAIL") >= 2


def test_manage_connections_gives_a_link_then_reports_active(composio, user_id):
    session = composio.create(user_id=user_id, toolkits=["github"])
    r = meta(session, "COMPOSIO_MANAGE_CONNECTIONS", {"toolkits": ["github"]})
    github = r.data["results"]["github"]
    assert github["status"] == "initiated" and github["redirect_url"].startswith(f"{BASE}/link/")
    tok = token("managed")
    complete_link_later(lambda: github["redirect_url"], "github", tok).join(10)
    r = meta(session, "COMPOSIO_MANAGE_CONNECTIONS", {"toolkits": ["github"]})
    assert r.data["results"]["github"]["status"] == "active", r.data
    # The agent can now run the tool with the new connection.
    r = session.execute("GITHUB_GET_AUTHENTICATED_USER", arguments={})
    assert r.data["login"] == "managed"


def test_multi_execute_runs_tools_in_order_with_each_account(composio, user_id):
    gh, sl = token("octo"), token("bot")
    connect(user_id, "github", gh)
    connect(user_id, "slack", sl)
    session = composio.create(user_id=user_id, toolkits=["github", "slack"])
    r = meta(session, "COMPOSIO_MULTI_EXECUTE_TOOL", {"tools": [
        {"tool_slug": "GITHUB_CREATE_ISSUE", "arguments": {"owner": "octo", "repo": "hello", "title": "Crash on start"}},
        {"tool_slug": "SLACK_SEND_MESSAGE", "arguments": {"channel": "C0123", "text": "Filed the crash"}},
        {"tool_slug": "GITHUB_CREATE_ISSUE", "arguments": {"owner": "octo", "repo": "hello"}},
    ], "sync_response_to_workbench": False})
    results = r.data["results"]
    assert [x["tool_slug"] for x in results] == ["GITHUB_CREATE_ISSUE", "SLACK_SEND_MESSAGE", "GITHUB_CREATE_ISSUE"]
    assert results[0]["response"]["successful"] and results[0]["response"]["data"]["number"] == 42
    assert results[1]["response"]["successful"] and results[1]["response"]["data"]["channel"] == "C0123"
    # The third misses `title`: refused by the input schema, never sent upstream.
    third = results[2]
    assert not (third.get("response") or {}).get("successful")
    assert "title" in repr(third)
    issues = upstream_requests("github", gh)
    assert len(issues) == 1 and issues[0]["body"] == {"title": "Crash on start"}
    posts = upstream_requests("slack", sl)
    assert posts[0]["body"] == {"channel": "C0123", "text": "Filed the crash"}


def test_meta_tools_share_context_across_turns(composio, user_id):
    """Search in one turn, execute the found tool in the next, on the same session."""
    tok = token("ctx")
    connect(user_id, "gmail", tok)
    session = composio.create(user_id=user_id, toolkits=["gmail"])
    found = meta(session, "COMPOSIO_SEARCH_TOOLS", {"queries": [{"use_case": "draft an email"}]})
    slug = "GMAIL_CREATE_EMAIL_DRAFT"
    assert slug in found.data["results"][0]["primary_tool_slugs"]
    later = composio.use(session.session_id)
    r = later.execute(slug, arguments={"recipient_email": "team@example.com", "subject": "Plan", "body": "Draft."})
    assert r.result_type == "completed", r.error
    assert r.data["message"]["labelIds"] == ["DRAFT"]
    sent = upstream_requests("gmail", tok)[-1]
    raw = sent["body"]["message"]["raw"]
    decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    assert "To: team@example.com" in decoded and "Subject: Plan" in decoded


def test_upstream_failure_is_a_failed_result_not_an_http_error(composio, user_id):
    connect(user_id, "github", "revoked" + token("x"))  # the stand-in refuses it like GitHub
    session = composio.create(user_id=user_id, toolkits=["github"])
    r = session.execute("GITHUB_GET_AUTHENTICATED_USER", arguments={})
    assert r.result_type == "failed"
    assert "Bad credentials" in r.error or "401" in r.error


def test_arguments_are_checked_against_the_schema(composio, user_id):
    tok = token("schema")
    connect(user_id, "github", tok)
    session = composio.create(user_id=user_id, toolkits=["github"])
    r = session.execute("GITHUB_CREATE_ISSUE", arguments={"owner": "octo", "repo": "hello", "title": 5})
    assert r.result_type == "failed"
    assert "title" in r.error
    assert not upstream_requests("github", tok)
