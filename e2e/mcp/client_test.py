"""The official MCP Python SDK (PyPI `mcp`) against a toolrouter session's `mcp.url`, with
the session's headers: it lists the tools, then finds a tool with COMPOSIO_SEARCH_TOOLS and
runs it with COMPOSIO_MULTI_EXECUTE_TOOL (an agent with nothing but MCP), then calls the
preloaded app tool directly and checks a failure is an error result.

Usage: client_test.py <mcp url> <api key>
"""

import asyncio
import json
import sys

from mcp import ClientSession
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


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
