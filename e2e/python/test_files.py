"""The files mount (`session.experimental.files`, CONTRACT.md §3.15; seed 000: "the persistent
/mnt/files/ mount"), through the official Python SDK, including the presigned upload and
download URLs the SDK fetches itself.

The SDK refuses presigned URLs on non-public hosts, so e2e/python/run runs this file under
e2e/harness/public_netns: toolrouter's public URL is then a public address that exists only
inside a private network namespace. Depends on the files-mount API being served."""

from __future__ import annotations

import os

import pytest

PUBLIC = os.environ["E2E_PUBLIC_URL"]


@pytest.fixture
def files(composio, user_id):
    return composio.create(user_id=user_id).experimental.files


def test_upload_list_download_delete(files):
    uploaded = files.upload(b"quarterly numbers", remote_path="reports/q1.txt", mimetype="text/plain")
    assert uploaded.mount_relative_path == "reports/q1.txt"
    listed = files.list(path="/reports", limit=10)
    paths = [i.mount_relative_path for i in listed.items]
    assert paths == ["reports/q1.txt"]
    assert listed.items[0].size == len(b"quarterly numbers")
    remote = files.download("reports/q1.txt")
    assert remote.download_url.startswith(PUBLIC)
    assert remote.buffer() == b"quarterly numbers"
    files.delete("reports/q1.txt")
    assert files.list(path="/reports").items == []


def test_files_are_visible_in_the_sandbox(composio, user_id):
    session = composio.create(user_id=user_id)
    session.experimental.files.upload(b"from the host", remote_path="shared.txt", mimetype="text/plain")
    try:
        r = session.execute("COMPOSIO_REMOTE_BASH_TOOL", arguments={"command": "cat /mnt/files/shared.txt"})
        assert r.data["stdout"].strip() == "from the host"
    finally:
        session.delete()
