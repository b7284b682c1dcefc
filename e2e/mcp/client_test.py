"""The official MCP Python SDK (PyPI `mcp`) against a toolrouter session's `mcp.url`, with
the session's headers: it lists the tools, then finds a tool with COMPOSIO_SEARCH_TOOLS and
runs it with COMPOSIO_MULTI_EXECUTE_TOOL (an agent with nothing but MCP), then calls the
preloaded app tool directly and checks a failure is an error result.

Then, on a session of its own whose permissions ask before every call, it answers the
server's approval questions (elicitation: approve, then deny) and hears
`notifications/tools/list_changed` when the session is changed through the REST API.

Usage: client_test.py <mcp url> <api key>
"""

import asyncio
import json
import sys
import urllib.request

import anyio
from mcp import ClientSession, types
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client


async def main(url: str, key: str) -> None:
    http = create_mcp_http_client(headers={"x-api-key": key})
    async with http, streamable_http_client(url, http_client=http) as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write) as session:
            await session.initialize()
            print(f"python: protocol {session.protocol_version}")
            assert session.server_info is None or session.server_info.name == "toolrouter"

            tools = (await session.list_tools()).tools
            names = [t.name for t in tools]
            assert "COMPOSIO_SEARCH_TOOLS" in names, names
            assert "ECHOER_CREATE_ITEM" in names, names
            assert all(len(n) <= 64 for n in names), names
            create = next(t for t in tools if t.name == "ECHOER_CREATE_ITEM")
            assert create.input_schema["required"] == ["name"], create.input_schema
            assert create.annotations.idempotent_hint is True, create.annotations

            found = await session.call_tool(
                "COMPOSIO_SEARCH_TOOLS",
                {"queries": [{"use_case": "create an item", "known_fields": "name:lamp"}]},
            )
            assert not found.is_error, found
            slug = found.structured_content["data"]["results"][0]["primary_tool_slugs"][0]
            assert slug == "ECHOER_CREATE_ITEM", found.structured_content

            ran = await session.call_tool(
                "COMPOSIO_MULTI_EXECUTE_TOOL",
                {"tools": [{"tool_slug": slug, "arguments": {"name": "lamp"}}],
                 "sync_response_to_workbench": False},
            )
            assert not ran.is_error, ran
            item = ran.structured_content["data"]["results"][0]["response"]["data"]
            assert item == {"id": "item_1", "echo": {"name": "lamp"}}, item

            direct = await session.call_tool("ECHOER_CREATE_ITEM", {"name": "desk"})
            assert not direct.is_error, direct
            assert json.loads(direct.content[0].text)["data"]["echo"] == {"name": "desk"}

            bad = await session.call_tool("ECHOER_CREATE_ITEM", {})
            assert bad.is_error, bad
            assert "name" in bad.structured_content["error"], bad.structured_content

            await session.send_ping()
    print("python: list, search -> execute, direct call and error result: ok")


def rest(base: str, key: str, method: str, path: str, body: dict | None = None) -> dict:
    req = urllib.request.Request(
        f"{base}/api/v3.1/tool_router/session{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"x-api-key": key, "content-type": "application/json"},
    )
    with urllib.request.urlopen(req) as res:
        return json.load(res)


async def approvals_and_changes(url: str, key: str) -> None:
    base = url.split("/tool_router/")[0]
    created = rest(base, key, "POST", "", {
        "user_id": "e2e-mcp-python",
        "toolkits": {"enable": ["echoer"]},
        "preload": {"tools": ["ECHOER_CREATE_ITEM"]},
        "experimental": {"permissions": {"default": "ask_every_call"}},
    })
    sid, session_url = created["session_id"], created["mcp"]["url"]

    asked: list[str] = []
    changed = anyio.Event()

    async def on_elicit(context, params: types.ElicitRequestParams):
        asked.append(params.message)
        decision = "approve" if len(asked) == 1 else "deny"
        return types.ElicitResult(action="accept", content={"decision": decision})

    async def on_message(message) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            changed.set()

    http = create_mcp_http_client(headers={"x-api-key": key})
    async with http, streamable_http_client(session_url, http_client=http) as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(
            read, write, elicitation_callback=on_elicit, message_handler=on_message
        ) as session:
            init = await session.initialize()
            assert init.capabilities.tools.list_changed is True, init.capabilities
            names = [t.name for t in (await session.list_tools()).tools]
            assert "ECHOER_CREATE_ITEM" in names, names

            approved = await session.call_tool("ECHOER_CREATE_ITEM", {"name": "approved"})
            assert not approved.is_error, approved
            assert approved.structured_content["data"]["echo"] == {"name": "approved"}
            assert "ECHOER_CREATE_ITEM" in asked[0], asked

            denied = await session.call_tool("ECHOER_CREATE_ITEM", {"name": "denied"})
            assert denied.is_error, denied
            assert "denied" in denied.structured_content["error"], denied.structured_content
            assert len(asked) == 2, asked

            rest(base, key, "PATCH", f"/{sid}", {"preload": {"tools": []}})
            with anyio.fail_after(30):
                await changed.wait()
            names = [t.name for t in (await session.list_tools()).tools]
            assert "ECHOER_CREATE_ITEM" not in names, names
    rest(base, key, "DELETE", f"/{sid}")
    print("python: approval through elicitation (approve, deny) and tools/list_changed: ok")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
    asyncio.run(approvals_and_changes(sys.argv[1], sys.argv[2]))
