"""Seed 002 "Direct tool access": tools fetched and executed on the Composio instance without a
session (`composio.tools.get` / `composio.tools.execute`), and the provider's legacy user-id
routing. Depends on direct tool access by user id being served."""

from __future__ import annotations

import json

from openai.types.chat.chat_completion import ChatCompletion

from support import connect, token, upstream_requests


def test_tools_get_for_a_user(composio, user_id):
    tools = composio.tools.get(user_id=user_id, toolkits=["github"], limit=100)
    names = [t["function"]["name"] for t in tools]
    assert "GITHUB_CREATE_ISSUE" in names
    assert all(n.startswith("GITHUB_") for n in names)
    assert not any(n.startswith("COMPOSIO_") for n in names)  # no meta tools without a session


def test_tools_execute_for_a_user(composio, user_id):
    tok = token("direct")
    connect(user_id, "github", tok)
    r = composio.tools.execute("GITHUB_GET_AUTHENTICATED_USER", user_id=user_id, arguments={},
                               dangerously_skip_version_check=True)
    assert r["successful"] and r["data"]["login"] == "direct"
    assert upstream_requests("github", tok)[0]["path"] == "/user"


def test_handle_tool_calls_by_user_id(composio, user_id):
    tok = token("legacy")
    connect(user_id, "github", tok)
    response = ChatCompletion.model_validate({
        "id": "x", "object": "chat.completion", "created": 0, "model": "gpt-4o",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": None, "tool_calls": [{
                "id": "call_1", "type": "function",
                "function": {"name": "GITHUB_GET_AUTHENTICATED_USER", "arguments": json.dumps({})}}]}}]})
    out = composio.provider.handle_tool_calls(user_id=user_id, response=response)
    assert out[0]["successful"] and out[0]["data"]["login"] == "legacy"
