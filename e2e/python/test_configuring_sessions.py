"""Seed "Configuring Sessions" (000, 001) and "Users and sessions" (003), every example, through
the official Python SDK against a real toolrouter. Each test names the seed section it checks
and asserts what the seed says happens, not only that no exception was raised."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request

import pytest
from composio import SESSION_PRESET_DIRECT_TOOLS, Composio
from composio_client import AuthenticationError, BadRequestError, NotFoundError, PermissionDeniedError
from composio_openai_agents import OpenAIAgentsProvider

from support import (API_KEY, BASE, DEFAULT_META, api, complete_link_later, connect,
                     create_auth_config, token, tool_names, upstream_requests)


def search_slugs(session, query: str) -> set[str]:
    """Every tool slug COMPOSIO_SEARCH_TOOLS proposes for a use case."""
    r = session.execute("COMPOSIO_SEARCH_TOOLS", arguments={"queries": [{"use_case": query}]})
    assert r.result_type == "completed", r.error
    out = set()
    for res in r.data["results"]:
        out.update(res.get("primary_tool_slugs", []))
        out.update(res.get("related_tool_slugs", []))
    return out


def toolkit_slugs(session) -> list[str]:
    return [t.slug for t in session.toolkits(limit=50).items]


# --- Creating a session ---------------------------------------------------------------------

def test_create_default_session_has_meta_tools_and_every_toolkit(composio, user_id):
    session = composio.create(user_id=user_id)
    assert session.session_id.startswith("trs_")
    # Default: the agent discovers tools through the meta tools, nothing preloaded.
    assert tool_names(session.tools()) == DEFAULT_META
    # "By default, a session has access to all toolkits in the catalog."
    catalog = {t["slug"] for t in api("GET", "/api/v3.1/toolkits?limit=100")["items"]}
    assert set(toolkit_slugs(session)) == catalog
    # ... and COMPOSIO_SEARCH_TOOLS can find tools in any of them.
    assert any(s.startswith("NOTION_") for s in search_slugs(session, "create a page in notion"))


# --- Enabling / disabling toolkits ----------------------------------------------------------

@pytest.mark.parametrize("toolkits", [["github", "gmail", "slack"], {"enable": ["github", "gmail", "slack"]}],
                         ids=["array", "enable_object"])
def test_enable_toolkits_restricts_the_session(composio, user_id, toolkits):
    session = composio.create(user_id=user_id, toolkits=toolkits)
    assert session.config.toolkits.enabled == ["github", "gmail", "slack"]
    assert sorted(toolkit_slugs(session)) == ["github", "gmail", "slack"]
    found = search_slugs(session, "create a page in notion and send a message")
    assert found, "search found nothing"
    assert all(s.split("_")[0] in ("GITHUB", "GMAIL", "SLACK") for s in found), found
    # A tool of a toolkit outside the session is refused, naming it.
    with pytest.raises(PermissionDeniedError) as e:
        session.execute("NOTION_CREATE_PAGE", arguments={})
    assert "NOTION_CREATE_PAGE" in str(e.value)


def test_disable_toolkits_keeps_everything_else(composio, user_id):
    session = composio.create(user_id=user_id, toolkits={"disable": ["exa", "firecrawl"]})
    assert session.config.toolkits.disabled == ["exa", "firecrawl"]
    slugs = toolkit_slugs(session)
    assert "exa" not in slugs and "firecrawl" not in slugs
    assert {"github", "gmail", "slack", "notion"} <= set(slugs)
    found = search_slugs(session, "scrape a web page and crawl a website")
    assert not any(s.startswith(("EXA_", "FIRECRAWL_")) for s in found), found


def test_enable_and_disable_together_is_refused(composio, user_id):
    with pytest.raises(BadRequestError) as e:
        composio.create(user_id=user_id, toolkits={"enable": ["gmail"], "disable": ["exa"]})
    assert "toolkits" in str(e.value)


def test_unknown_toolkit_is_refused_by_name(composio, user_id):
    with pytest.raises(BadRequestError) as e:
        composio.create(user_id=user_id, toolkits=["github", "not_a_toolkit"])
    assert "not_a_toolkit" in str(e.value)


# --- Preloading tools -----------------------------------------------------------------------

def test_preload_tools_with_openai_agents_provider(user_id):
    composio = Composio(provider=OpenAIAgentsProvider(), allow_tracking=False)
    session = composio.create(
        user_id=user_id,
        toolkits=["gmail"],
        preload={"tools": ["GMAIL_FETCH_EMAILS", "GMAIL_CREATE_EMAIL_DRAFT"]},
    )
    tools = session.tools()
    assert [tool.name for tool in tools] == ["GMAIL_FETCH_EMAILS", "GMAIL_CREATE_EMAIL_DRAFT", *DEFAULT_META]


def test_preload_all_lists_every_allowed_tool(composio, user_id):
    session = composio.create(user_id=user_id, toolkits=["gmail"], preload={"tools": "all"})
    gmail = [t["slug"] for t in api("GET", "/api/v3.1/tools?toolkit_slug=gmail&limit=200")["items"]]
    names = tool_names(session.tools())
    assert sorted(names[: len(gmail)]) == sorted(gmail)
    assert names[len(gmail):] == DEFAULT_META


def test_preload_is_refused_with_multi_account(composio, user_id):
    with pytest.raises(BadRequestError) as e:
        composio.create(user_id=user_id, toolkits=["gmail"], preload={"tools": ["GMAIL_FETCH_EMAILS"]},
                        multi_account={"enable": True})
    assert "preload" in str(e.value)


# --- Direct tools preset --------------------------------------------------------------------

def test_direct_tools_preset_lists_only_the_enabled_tools(user_id):
    composio = Composio(provider=OpenAIAgentsProvider(), allow_tracking=False)
    session = composio.create(
        user_id=user_id,
        toolkits=["gmail"],
        tools={"gmail": {"enable": ["GMAIL_FETCH_EMAILS", "GMAIL_CREATE_EMAIL_DRAFT"]}},
        session_preset=SESSION_PRESET_DIRECT_TOOLS,
    )
    assert [tool.name for tool in session.tools()] == ["GMAIL_FETCH_EMAILS", "GMAIL_CREATE_EMAIL_DRAFT"]


def test_direct_tools_preset_with_selected_meta_tools(user_id):
    composio = Composio(provider=OpenAIAgentsProvider(), allow_tracking=False)
    session = composio.create(
        user_id=user_id,
        toolkits=["gmail"],
        tools={"gmail": {"enable": ["GMAIL_FETCH_EMAILS", "GMAIL_CREATE_EMAIL_DRAFT"]}},
        session_preset=SESSION_PRESET_DIRECT_TOOLS,
        manage_connections={"enable": True},
        workbench={"enable": True},
    )
    assert [tool.name for tool in session.tools()] == [
        "GMAIL_FETCH_EMAILS",
        "GMAIL_CREATE_EMAIL_DRAFT",
        "COMPOSIO_MANAGE_CONNECTIONS",
        "COMPOSIO_REMOTE_WORKBENCH",
        "COMPOSIO_REMOTE_BASH_TOOL",
    ]


def test_unknown_tool_slug_is_refused_by_name(composio, user_id):
    with pytest.raises(BadRequestError) as e:
        composio.create(user_id=user_id, toolkits=["gmail"],
                        tools={"gmail": {"enable": ["GMAIL_FETCH_EMAILS", "GMAIL_NOPE"]}})
    assert "GMAIL_NOPE" in str(e.value)


# --- Custom auth configs --------------------------------------------------------------------

def test_custom_auth_configs_are_used_for_connections(composio, user_id):
    github_config = create_auth_config("github")
    slack_config = create_auth_config("slack")
    # Another GitHub config the project also has: the session's pin must win over it.
    create_auth_config("github")
    session = composio.create(
        user_id=user_id,
        auth_configs={"github": github_config, "slack": slack_config},
    )
    assert session.config.auth_configs == {"github": github_config, "slack": slack_config}
    request = session.authorize("github")
    account = api("GET", f"/api/v3.1/connected_accounts/{request.id}")
    assert account["auth_config"]["id"] == github_config
    assert account["status"] == "INITIATED"


def test_auth_config_pin_selects_the_account_on_that_config(composio, user_id):
    pinned = create_auth_config("github")
    pinned_token = token("pinned")
    connect(user_id, "github", pinned_token, pinned)
    newer_token = token("newer")
    connect(user_id, "github", newer_token)  # more recent, on another config
    session = composio.create(user_id=user_id, toolkits=["github"], auth_configs={"github": pinned})
    r = session.execute("GITHUB_GET_AUTHENTICATED_USER", arguments={})
    assert r.result_type == "completed", r.error
    assert r.data["login"] == "pinned"
    assert upstream_requests("github", pinned_token) and not upstream_requests("github", newer_token)


def test_unknown_auth_config_is_refused(composio, user_id):
    with pytest.raises((BadRequestError, NotFoundError)) as e:
        composio.create(user_id=user_id, auth_configs={"github": "ac_your_github_config"})
    assert "ac_your_github_config" in str(e.value)


# --- Account selection and precedence -------------------------------------------------------

@pytest.mark.parametrize("as_string", [False, True], ids=["arrays", "strings"])
def test_connected_accounts_pin_which_account_is_used(composio, user_id, as_string):
    work_token, personal_token = token("work"), token("personal")
    work_gmail = connect(user_id, "gmail", work_token)
    connect(user_id, "gmail", token("newest"))  # most recent gmail account, not pinned
    personal_github = connect(user_id, "github", personal_token)
    connect(user_id, "github", token("other"))
    pins = {"gmail": [work_gmail], "github": [personal_github]}
    if as_string:
        pins = {k: v[0] for k, v in pins.items()}
    session = composio.create(user_id=user_id, connected_accounts=pins)
    assert session.config.connected_accounts == {"gmail": [work_gmail], "github": [personal_github]}

    r = session.execute("GMAIL_FETCH_EMAILS", arguments={"max_results": 1})
    assert r.result_type == "completed", r.error
    assert r.data["messages"][0]["id"].startswith("work-")
    r = session.execute("GITHUB_GET_AUTHENTICATED_USER", arguments={})
    assert r.data["login"] == "personal"
    assert upstream_requests("gmail", work_token)[-1]["path"] == "/gmail/v1/users/me/messages"
    assert upstream_requests("github", personal_token)[-1]["path"] == "/user"


def test_most_recently_connected_account_is_used(composio, user_id):
    connect(user_id, "github", token("older"))
    newest = token("newest")
    connect(user_id, "github", newest)
    session = composio.create(user_id=user_id, toolkits=["github"])
    r = session.execute("GITHUB_GET_AUTHENTICATED_USER", arguments={})
    assert r.data["login"] == "newest"
    assert upstream_requests("github", newest)


def test_two_pinned_accounts_need_multi_account(composio, user_id):
    a = connect(user_id, "gmail", token("a"))
    b = connect(user_id, "gmail", token("b"))
    with pytest.raises(BadRequestError) as e:
        composio.create(user_id=user_id, connected_accounts={"gmail": [a, b]})
    assert "multi" in str(e.value).lower()


def test_another_users_account_cannot_be_pinned(composio, user_id):
    theirs = connect(f"{user_id}_other", "gmail", token("theirs"))
    with pytest.raises((BadRequestError, NotFoundError)) as e:
        composio.create(user_id=user_id, connected_accounts={"gmail": [theirs]})
    assert theirs in str(e.value)


def test_without_an_account_the_tool_fails_with_a_connect_hint(composio, user_id):
    session = composio.create(user_id=user_id, toolkits=["github"])
    r = session.execute("GITHUB_GET_AUTHENTICATED_USER", arguments={})
    assert r.result_type == "failed"
    assert "github" in r.error.lower() and "connect" in r.error.lower()


def test_connected_accounts_persist_across_sessions(composio, user_id):
    """003: "When a user connects their GitHub account in one session, it remains available in
    future sessions." """
    first = composio.create(user_id=user_id, toolkits=["github"])
    tok = token("persisted")
    request = first.authorize("github")
    complete_link_later(lambda: request.redirect_url, "github", tok)
    request.wait_for_connection(timeout=15)
    second = composio.create(user_id=user_id, toolkits=["github"])
    r = second.execute("GITHUB_GET_AUTHENTICATED_USER", arguments={})
    assert r.result_type == "completed", r.error
    assert r.data["login"] == "persisted"


# --- Workbench ------------------------------------------------------------------------------

def test_disabling_workbench_removes_its_tools_and_rejects_calls(composio, user_id):
    session = composio.create(user_id=user_id, workbench={"enable": False})
    names = tool_names(session.tools())
    assert "COMPOSIO_REMOTE_WORKBENCH" not in names and "COMPOSIO_REMOTE_BASH_TOOL" not in names
    assert "COMPOSIO_SEARCH_TOOLS" in names
    assert "workbench" not in (session.experimental.assistive_prompt or "").lower()
    with pytest.raises(BadRequestError) as e:
        session.execute("COMPOSIO_REMOTE_WORKBENCH", arguments={"code_to_execute": "1+1"})
    assert e.value.status_code == 400


@pytest.mark.parametrize("size", ["standard", "medium", "large", "xlarge"])
def test_sandbox_size_is_kept(composio, user_id, size):
    session = composio.create(user_id=user_id, workbench={"sandbox_size": size})
    assert session.config.workbench.sandbox_size == size
    again = composio.use(session.session_id)
    assert again.config.workbench.sandbox_size == size


def test_sandbox_size_defaults_to_standard_and_rejects_unknown_tiers(composio, user_id):
    assert composio.create(user_id=user_id).config.workbench.sandbox_size == "standard"
    with pytest.raises(BadRequestError) as e:
        composio.create(user_id=user_id, workbench={"sandbox_size": "huge"})
    assert "sandbox_size" in str(e.value)


# --- Session methods ------------------------------------------------------------------------

def test_session_mcp_url_and_headers(composio, user_id):
    session = composio.create(user_id=user_id)
    mcp_url = session.mcp.url
    assert mcp_url.startswith(f"{BASE}/") and session.session_id in mcp_url
    # Same origin as the API, so the SDK attaches the credential (CONTRACT.md §7).
    assert session.mcp.headers == {"x-api-key": API_KEY}
    strict = composio.create(user_id=user_id, mcp=True)  # raises MCPDestinationError otherwise
    assert strict.mcp.url.startswith(BASE)


def test_session_tools_are_openai_tools(composio, user_id):
    session = composio.create(user_id=user_id)
    tools = session.tools()
    search = next(t for t in tools if t["function"]["name"] == "COMPOSIO_SEARCH_TOOLS")
    assert search["type"] == "function"
    params = search["function"]["parameters"]
    assert params["type"] == "object" and "queries" in params["properties"]
    assert "queries" in params.get("required", [])


def test_authorize_and_wait_for_connection(composio, user_id):
    session = composio.create(user_id=user_id)
    connection_request = session.authorize("github")
    assert connection_request.redirect_url.startswith(f"{BASE}/link/")
    tok = token("octo")
    complete_link_later(lambda: connection_request.redirect_url, "github", tok)
    connected_account = connection_request.wait_for_connection(timeout=15)
    assert connected_account.status == "ACTIVE"
    assert connected_account.id == connection_request.id
    r = session.execute("GITHUB_GET_AUTHENTICATED_USER", arguments={})
    assert r.data["login"] == "octo"
    assert upstream_requests("github", tok)


def test_authorize_with_callback_url_returns_there(composio, user_id):
    session = composio.create(user_id=user_id)
    req = session.authorize("github", callback_url="https://myapp.com/callback")
    form = urllib.parse.urlencode({"token": token("cb")}).encode()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None

    try:
        urllib.request.build_opener(NoRedirect).open(
            urllib.request.Request(req.redirect_url, data=form, method="POST"), timeout=10)
        raise AssertionError("expected a redirect to the callback URL")
    except urllib.error.HTTPError as e:
        assert e.code == 303
        location = e.headers["Location"]
    assert location.startswith("https://myapp.com/callback?")
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    assert q["status"] == ["success"] and q["connected_account_id"] == [req.id]


def test_authorize_refuses_a_callback_url_off_the_allowlist(composio, user_id):
    session = composio.create(user_id=user_id)
    with pytest.raises(BadRequestError) as e:
        session.authorize("github", callback_url="https://evil.example.net/steal")
    assert "callback" in str(e.value).lower()


def test_toolkits_show_connection_status(composio, user_id):
    session = composio.create(user_id=user_id, toolkits=["github", "gmail", "slack"])
    account = connect(user_id, "github", token("shown"))
    toolkits = session.toolkits()
    lines = {}
    for toolkit in toolkits.items:
        status = toolkit.connection.connected_account.id if toolkit.connection.is_active else "Not connected"
        lines[toolkit.name] = status
    assert lines == {"GitHub": account, "Gmail": "Not connected", "Slack": "Not connected"}
    connected = session.toolkits(is_connected=True)
    assert [t.slug for t in connected.items] == ["github"]


def test_toolkits_returns_the_first_20_by_default(composio, user_id):
    session = composio.create(user_id=user_id)
    total = len(api("GET", "/api/v3.1/toolkits?limit=100")["items"])
    assert total > 20, "the harness loads extra toolkits so paging shows"
    first = session.toolkits()
    assert len(first.items) == 20
    assert first.total_pages == -(-total // 20)
    rest = session.toolkits(next_cursor=first.next_cursor)
    assert len(first.items) + len(rest.items) == total
    assert not {t.slug for t in first.items} & {t.slug for t in rest.items}


def test_use_existing_session_by_id(composio, user_id):
    session = composio.create(user_id=user_id, toolkits=["gmail"])
    again = composio.use(session.session_id)
    assert again.session_id == session.session_id
    assert again.config.toolkits.enabled == ["gmail"]
    assert tool_names(again.tools()) == tool_names(session.tools())
    with pytest.raises(NotFoundError):
        composio.use("trs_does_not_exist")


def test_a_wrong_api_key_is_refused_with_the_envelope(composio, user_id):
    session = composio.create(user_id=user_id)
    stranger = Composio(api_key="trk_not_a_real_key", allow_tracking=False)
    with pytest.raises(AuthenticationError) as e:
        stranger.use(session.session_id)
    assert e.value.status_code == 401
    assert set(e.value.body["error"]) >= {"message", "code", "slug", "status"}
