"""Approvals through the Python SDK (CONTRACT.md §3.8, §10.1): a tool the session's
`require_approval` (or `experimental.permissions`) asks about raises `ToolInputRequiredError`
and nothing reaches the upstream; the same call with the user's answer runs (or fails, if the
user said no). TypeScript 0.21 has no approvals (it fails on `input_required`)."""

from __future__ import annotations

import pytest
from composio.exceptions import ToolInputRequiredError

from support import connect, token, upstream_requests

ISSUE = {"owner": "octo", "repo": "hello", "title": "Needs a yes"}


def answer(decision: str, action: str = "accept") -> dict:
    return {"approval": {"action": action, "content": {"decision": decision}}}


def test_require_approval_round_trip(composio, user_id):
    tok = token("approver")
    connect(user_id, "github", tok)
    session = composio.create(user_id=user_id,
                              toolkits={"enable": ["github"], "require_approval": ["github"]})
    with pytest.raises(ToolInputRequiredError) as asked:
        session.execute("GITHUB_CREATE_ISSUE", arguments=ISSUE)
    question = asked.value.input_requests["approval"]
    assert "GITHUB_CREATE_ISSUE" in repr(question)
    state = asked.value.request_state
    assert state and not upstream_requests("github", tok)

    # No: a failed result, nothing sent.
    r = session.execute("GITHUB_CREATE_ISSUE", arguments=ISSUE,
                        input_responses=answer("deny"), request_state=state)
    assert r.result_type == "failed" and "did not approve" in r.error
    assert not upstream_requests("github", tok)

    # Yes: it runs, once.
    r = session.execute("GITHUB_CREATE_ISSUE", arguments=ISSUE,
                        input_responses=answer("approve"), request_state=state)
    assert r.result_type == "completed", r.error
    assert r.data["number"] == 42
    sent = upstream_requests("github", tok)
    assert len(sent) == 1 and sent[0]["body"]["title"] == "Needs a yes"
    with pytest.raises(ToolInputRequiredError):
        session.execute("GITHUB_CREATE_ISSUE", arguments=ISSUE)


def test_always_approve_under_ask_every_call(composio, user_id):
    tok = token("always")
    connect(user_id, "github", tok)
    session = composio.create(user_id=user_id, toolkits=["github"])
    # The SDK sends `experimental.permissions` on update only.
    session.update(experimental={"permissions": {"default": "ask_every_call"}})
    with pytest.raises(ToolInputRequiredError) as asked:
        session.execute("GITHUB_GET_AUTHENTICATED_USER", arguments={})
    r = session.execute("GITHUB_GET_AUTHENTICATED_USER", arguments={},
                        input_responses=answer("always_approve"),
                        request_state=asked.value.request_state)
    assert r.result_type == "completed", r.error
    # Remembered for the session: the next call just runs.
    r = session.execute("GITHUB_GET_AUTHENTICATED_USER", arguments={})
    assert r.result_type == "completed", r.error
    assert len(upstream_requests("github", tok)) == 2
