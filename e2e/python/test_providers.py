"""The seed examples that hand session tools to an LLM: the default OpenAI provider's
`handle_tool_calls` and the OpenAI Agents provider of seed 000's preload examples. No network
LLM: the model's answer is a canned response object built locally, in the provider's own types,
and what the provider does with it (calls to toolrouter, calls to the stand-in) is checked."""

from __future__ import annotations

import asyncio
import json

from composio import Composio
from composio_openai_agents import OpenAIAgentsProvider
from openai.types.chat.chat_completion import ChatCompletion

from support import connect, token, upstream_requests


def completion(*calls: tuple[str, dict]) -> ChatCompletion:
    """What the model would answer: one assistant message with these function calls."""
    return ChatCompletion.model_validate({
        "id": "chatcmpl-e2e", "object": "chat.completion", "created": 0, "model": "gpt-4o",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": None,
            "tool_calls": [
                {"id": f"call_{i}", "type": "function",
                 "function": {"name": name, "arguments": json.dumps(args)}}
                for i, (name, args) in enumerate(calls)
            ]}}],
    })


def test_openai_handle_tool_calls_runs_meta_and_app_tools(composio, user_id):
    tok = token("llm")
    connect(user_id, "gmail", tok)
    session = composio.create(user_id=user_id, toolkits=["gmail"],
                              preload={"tools": ["GMAIL_SEND_EMAIL"]})
    tools = session.tools()
    assert "GMAIL_SEND_EMAIL" in [t["function"]["name"] for t in tools]
    response = completion(
        ("COMPOSIO_SEARCH_TOOLS", {"queries": [{"use_case": "send an email"}]}),
        ("GMAIL_SEND_EMAIL", {"recipient_email": "alice@example.com", "subject": "Hi", "body": "Hello Alice"}),
        ("COMPOSIO_MULTI_EXECUTE_TOOL", {"tools": [{"tool_slug": "GMAIL_FETCH_EMAILS", "arguments": {"max_results": 1}}],
                                          "sync_response_to_workbench": False}),
    )
    results = composio.provider.handle_tool_calls(session=session, response=response)
    assert len(results) == 3 and all(r["successful"] for r in results), results
    search, send, multi = results
    assert "GMAIL_SEND_EMAIL" in search["data"]["results"][0]["primary_tool_slugs"]
    assert send["data"]["labelIds"] == ["SENT"] and send["error"] is None
    assert multi["data"]["results"][0]["response"]["data"]["messages"][0]["id"] == "llm-m0"
    paths = [r["path"] for r in upstream_requests("gmail", tok)]
    assert paths == ["/gmail/v1/users/me/messages/send", "/gmail/v1/users/me/messages"]


def test_openai_handle_tool_calls_reports_a_failed_tool(composio, user_id):
    session = composio.create(user_id=user_id, toolkits=["github"])
    results = composio.provider.handle_tool_calls(
        session=session, response=completion(("GITHUB_GET_AUTHENTICATED_USER", {})))
    assert results[0]["successful"] is False
    assert "github" in results[0]["error"].lower()


def test_openai_agents_provider_tools_execute_through_the_session(user_id):
    tok = token("agent")
    connect(user_id, "github", tok)
    composio = Composio(provider=OpenAIAgentsProvider(), allow_tracking=False)
    session = composio.create(user_id=user_id, toolkits=["github"],
                              preload={"tools": ["GITHUB_GET_AUTHENTICATED_USER"]})
    tools = {t.name: t for t in session.tools()}
    # What the Agents runner does when the model calls a tool: invoke it with the JSON input.
    out = json.loads(asyncio.run(tools["GITHUB_GET_AUTHENTICATED_USER"].on_invoke_tool(None, "{}")))
    assert out["successful"] and out["data"]["login"] == "agent"
    found = json.loads(asyncio.run(tools["COMPOSIO_SEARCH_TOOLS"].on_invoke_tool(
        None, json.dumps({"queries": [{"use_case": "create an issue"}]}))))
    assert "GITHUB_CREATE_ISSUE" in found["data"]["results"][0]["primary_tool_slugs"]
    assert upstream_requests("github", tok)[0]["path"] == "/user"
