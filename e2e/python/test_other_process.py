"""Issue #5: "Sessions survive restarts and are usable by id from another process." A second
`toolrouter serve` on the same data directory (same SQLite database and master key) serves a
session created through the first one, to the official SDK, including a tool call with the
user's stored credential. The second process runs without a workbench: only one process may own
the sandboxes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request

import pytest
from composio import Composio

from support import API_KEY, connect, token, tool_names, upstream_requests


@pytest.fixture
def other_process():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    argv = [os.environ["E2E_TOOLROUTER_BIN"], "serve", "--listen", f"127.0.0.1:{port}",
            "--public-url", base, "--workbench", "off", *json.loads(os.environ["E2E_SERVE_ARGS"])]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOOLROUTER_")}
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        for _ in range(300):
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        yield Composio(api_key=API_KEY, base_url=base, allow_tracking=False)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_session_is_usable_by_id_from_another_process(composio, user_id, other_process):
    tok = token("elsewhere")
    connect(user_id, "github", tok)
    session = composio.create(user_id=user_id, toolkits=["github"],
                              preload={"tools": ["GITHUB_GET_AUTHENTICATED_USER"]})
    there = other_process.use(session.session_id)
    assert there.config.toolkits.enabled == ["github"]
    assert tool_names(there.tools()) == tool_names(session.tools())
    r = there.execute("GITHUB_GET_AUTHENTICATED_USER", arguments={})
    assert r.result_type == "completed", r.error
    assert r.data["login"] == "elsewhere"
    assert upstream_requests("github", tok)
    # A change made in one process is what the other serves next.
    there.update(toolkits={"enable": ["github", "gmail"]})
    assert composio.use(session.session_id).config.toolkits.enabled == ["github", "gmail"]
