"""COMPOSIO_REMOTE_WORKBENCH / COMPOSIO_REMOTE_BASH_TOOL (seeds 000, 002: "a persistent sandbox";
"Changing sandbox_size … recreates the sandbox on next access … the persistent /mnt/files/ mount
survives"), through the official Python SDK. Depends on the workbench meta tools being served."""

from __future__ import annotations

import pytest

from support import connect, token, upstream_requests


@pytest.fixture
def create(composio):
    """composio.create, deleting each session afterwards: that stops its sandbox, so the
    server's sandbox capacity is not held by finished tests."""
    made = []

    def make(*args, **kwargs):
        made.append(composio.create(*args, **kwargs))
        return made[-1]

    yield make
    for session in made:
        session.delete()


def workbench(session, code: str) -> dict:
    r = session.execute("COMPOSIO_REMOTE_WORKBENCH", arguments={"code_to_execute": code})
    assert r.result_type == "completed", r.error
    return r.data


def bash(session, command: str) -> dict:
    r = session.execute("COMPOSIO_REMOTE_BASH_TOOL", arguments={"command": command})
    assert r.result_type == "completed", r.error
    return r.data


def test_workbench_state_persists_between_calls(create, user_id):
    session = create(user_id=user_id)
    workbench(session, "total = 40")
    out = workbench(session, "print('sum is', total + 2)\ntotal * 2")
    assert "sum is 42" in out["stdout"]
    assert "80" in repr(out["results"])


def test_workbench_exception_is_a_result(create, user_id):
    session = create(user_id=user_id)
    r = session.execute("COMPOSIO_REMOTE_WORKBENCH", arguments={"code_to_execute": "1/0"})
    assert "ZeroDivisionError" in repr(r.data) + str(r.error)


def test_bash_and_workbench_share_mnt_files(create, user_id):
    session = create(user_id=user_id)
    out = bash(session, "echo hello > /mnt/files/hello.txt && cat /mnt/files/hello.txt")
    assert out["stdout"].strip() == "hello"
    out = workbench(session, "open('/mnt/files/hello.txt').read().strip()")
    assert "hello" in repr(out["results"])


def test_workbench_runs_tools_with_the_users_account(create, user_id):
    tok = token("sandboxed")
    connect(user_id, "github", tok)
    session = create(user_id=user_id, toolkits=["github"])
    out = workbench(session, "r = run_composio_tool('GITHUB_GET_AUTHENTICATED_USER', {})\nprint(r)")
    assert "sandboxed" in out["stdout"]
    assert upstream_requests("github", tok)[0]["path"] == "/user"


def test_changing_sandbox_size_keeps_files_but_not_memory(create, user_id):
    session = create(user_id=user_id, workbench={"sandbox_size": "standard"})
    workbench(session, "kept_in_memory = 1\nopen('/mnt/files/kept.txt', 'w').write('on disk')")
    session.update(workbench={"sandbox_size": "medium"})
    assert session.config.workbench.sandbox_size == "medium"
    out = workbench(session, "print('defined' if 'kept_in_memory' in globals() else 'fresh')\n"
                             "open('/mnt/files/kept.txt').read()")
    assert "fresh" in out["stdout"]
    assert "on disk" in repr(out["results"])
