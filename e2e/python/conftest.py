"""Fixtures of the Python SDK suite (helpers are in support.py)."""

from __future__ import annotations

import uuid

import pytest
from composio import Composio


@pytest.fixture
def composio() -> Composio:
    # As the seeds: the key and base URL come from the environment.
    return Composio(allow_tracking=False)


@pytest.fixture
def user_id() -> str:
    """A fresh user per test, so tests never see each other's accounts."""
    return f"user_{uuid.uuid4().hex[:12]}"
