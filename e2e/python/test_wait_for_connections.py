"""COMPOSIO_WAIT_FOR_CONNECTIONS (opt-in with manage_connections.wait_for_connections): the agent
waits until the user finished connecting. Depends on that meta tool being served."""

from __future__ import annotations

from support import complete_link_later, token, tool_names


def test_wait_for_connections_returns_once_connected(composio, user_id):
    session = composio.create(user_id=user_id, toolkits=["github"],
                              manage_connections={"enable": True, "wait_for_connections": True})
    assert "COMPOSIO_WAIT_FOR_CONNECTIONS" in tool_names(session.tools())
    r = session.execute("COMPOSIO_MANAGE_CONNECTIONS", arguments={"toolkits": ["github"]})
    link = r.data["results"]["github"]["redirect_url"]
    complete_link_later(lambda: link, "github", token("waited"))
    r = session.execute("COMPOSIO_WAIT_FOR_CONNECTIONS", arguments={"toolkits": ["github"]})
    assert r.result_type == "completed", r.error
    assert "active" in repr(r.data).lower()


def test_wait_for_connections_is_off_by_default(composio, user_id):
    session = composio.create(user_id=user_id)
    assert "COMPOSIO_WAIT_FOR_CONNECTIONS" not in tool_names(session.tools())
