"""Seed 004 (the SDK's Sessions reference: `sessions.create` with manage connections and
experimental custom tools/toolkits, `sessions.use`, `sessions.list`) and the session life cycle
the seeds and contract describe (update with config_version / 409, config history, delete →
404), through the official Python SDK."""

from __future__ import annotations

import pytest
from composio import Composio
from composio.exceptions import SessionConfigConflictError
from composio_client import NotFoundError
from pydantic import BaseModel, Field

from support import API_KEY, DEFAULT_META, api, connect, token, tool_names, upstream_requests


class PatternInput(BaseModel):
    pattern: str = Field(description="Pattern to search for")


def custom_tools(composio: Composio):
    @composio.experimental.tool()
    def grep(input: PatternInput, ctx):
        """Search for a pattern in the project's local files."""
        return {"matches": [f"notes.txt: {input.pattern}"], "user": ctx.user_id}

    @composio.experimental.tool(extends_toolkit="github", preload=True)
    def my_login(input: PatternInput, ctx):
        """Return the login of the user's GitHub account, through the session."""
        r = ctx.execute("GITHUB_GET_AUTHENTICATED_USER", {})
        return {"login": r.data["login"], "pattern": input.pattern}

    dev = composio.experimental.Toolkit(slug="DEV_TOOLS", name="Dev Tools",
                                        description="Local developer utilities")

    @dev.tool()
    def search_code(input: PatternInput, ctx):
        """Search the local code base for a symbol."""
        return {"results": [input.pattern]}

    return grep, my_login, dev


def test_sessions_create_with_custom_tools_and_toolkits(composio, user_id):
    tok = token("custom")
    connect(user_id, "github", tok)
    grep, my_login, dev = custom_tools(composio)
    session = composio.sessions.create(
        user_id=user_id, toolkits=["github"], manage_connections=True,
        experimental={"custom_tools": [grep, my_login], "custom_toolkits": [dev]},
    )
    # The server assigned the LOCAL_ slugs the SDK routes by.
    slugs = sorted(t.slug for t in session.custom_tools())
    assert slugs == ["LOCAL_DEV_TOOLS_SEARCH_CODE", "LOCAL_GITHUB_MY_LOGIN", "LOCAL_GREP"]
    # The preloaded custom tool is listed next to the meta tools.
    names = tool_names(session.tools())
    assert "LOCAL_GITHUB_MY_LOGIN" in names and "COMPOSIO_SEARCH_TOOLS" in names
    # Custom tools run in process; one calls a Composio tool through the session.
    r = session.execute("GREP", arguments={"pattern": "todo"})
    assert r.data["matches"] == ["notes.txt: todo"] and r.data["user"] == user_id
    r = session.execute("LOCAL_GITHUB_MY_LOGIN", arguments={"pattern": "x"})
    assert r.data["login"] == "custom"
    assert upstream_requests("github", tok)[0]["path"] == "/user"


def test_sessions_use_with_custom_tools_attaches_them(composio, user_id):
    grep, _, dev = custom_tools(composio)
    session = composio.sessions.create(user_id=user_id, experimental={"custom_tools": [grep]})
    again = composio.sessions.use(session.session_id, custom_tools=[grep], custom_toolkits=[dev])
    assert again.session_id == session.session_id
    assert sorted(t.slug for t in again.custom_tools()) == ["LOCAL_DEV_TOOLS_SEARCH_CODE", "LOCAL_GREP"]
    r = again.execute("LOCAL_DEV_TOOLS_SEARCH_CODE", arguments={"pattern": "fn main"})
    assert r.data["results"] == ["fn main"]


def test_sessions_use_mcp(composio, user_id):
    session = composio.sessions.create(user_id=user_id)
    again = composio.sessions.use(session.session_id, mcp=True)
    assert again.mcp.url == session.mcp.url
    assert again.mcp.headers == {"x-api-key": API_KEY}


def test_sessions_list_is_served_though_the_sdk_has_no_method(composio, user_id):
    """Seed 004 shows `composio.sessions.list()`; no official SDK implements it (CONTRACT.md §2),
    so it is checked on toolrouter's endpoint with the same key."""
    assert not hasattr(composio.sessions, "list")
    ids = {composio.create(user_id=user_id).session_id for _ in range(3)}
    listed = api("GET", f"/api/v3.1/tool_router/session?user_id={user_id}&limit=2")
    seen = {s["session_id"] for s in listed["items"]}
    assert len(listed["items"]) == 2 and listed["next_cursor"]
    rest = api("GET", f"/api/v3.1/tool_router/session?user_id={user_id}&cursor={listed['next_cursor']}")
    seen |= {s["session_id"] for s in rest["items"]}
    assert seen == ids


def test_update_with_config_version_and_conflict(composio, user_id):
    session = composio.create(user_id=user_id, toolkits=["github"])
    v1 = session.config_version
    session.update(toolkits={"enable": ["gmail"]}, preload={"tools": ["GMAIL_FETCH_EMAILS"]},
                   expected_config_version=v1)
    assert session.config_version == v1 + 1
    assert session.config.toolkits.enabled == ["gmail"]
    assert tool_names(session.tools()) == ["GMAIL_FETCH_EMAILS", *DEFAULT_META]
    with pytest.raises(SessionConfigConflictError):
        session.update(tags=["readOnlyHint"], expected_config_version=v1)
    # `None` restores the default: every toolkit again.
    session.update(toolkits=None)
    assert session.config_version == v1 + 2
    history = session.list_config_history(limit=10)
    assert [h.version for h in history.items][:3] == [v1 + 2, v1 + 1, v1]


def test_delete_then_the_session_is_gone(composio, user_id):
    session = composio.create(user_id=user_id)
    deleted = session.delete()
    assert deleted["deleted"] is True and deleted["session_id"] == session.session_id
    with pytest.raises(NotFoundError):
        composio.use(session.session_id)
    with pytest.raises(NotFoundError):
        session.execute("COMPOSIO_SEARCH_TOOLS", arguments={"queries": [{"use_case": "x"}]})
    with pytest.raises(NotFoundError):
        composio.sessions.delete(session.session_id)


def test_preload_all_includes_custom_tools(composio, user_id):
    """000: "The all shorthand works for both Composio tools and SDK custom tools." """
    grep, _, _ = custom_tools(composio)
    session = composio.create(user_id=user_id, toolkits=["slack"], preload={"tools": "all"},
                              experimental={"custom_tools": [grep]})
    names = tool_names(session.tools())
    assert "LOCAL_GREP" in names and "SLACK_SEND_MESSAGE" in names
