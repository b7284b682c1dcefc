// Seed "Configuring Sessions" (000, 001) and "Users and sessions" (003), every example, through
// the official TypeScript SDK against a real toolrouter. Each test names the seed section it
// checks and asserts what the seed says happens, not only that nothing threw.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SessionPreset } from '@composio/core';

import {
  API_KEY, BASE, DEFAULT_META, api, connect, createAuthConfig, names, newUser, rejects,
  sdk, searchSlugs, submitConnectForm, token, upstream,
} from './support.mjs';

const composio = sdk();
const toolkitSlugs = async (session) => (await session.toolkits({ limit: 50 })).items.map((t) => t.slug);

// --- Creating a session -------------------------------------------------------------------

test('create: default session has the meta tools and every toolkit', async () => {
  const session = await composio.create(newUser());
  assert.match(session.sessionId, /^trs_/);
  assert.deepEqual(names(await session.tools()), DEFAULT_META);
  const catalog = (await api('GET', '/api/v3.1/toolkits?limit=100')).items.map((t) => t.slug);
  assert.deepEqual(new Set(await toolkitSlugs(session)), new Set(catalog));
  const found = await searchSlugs(session, 'create a page in notion');
  assert.ok([...found].some((s) => s.startsWith('NOTION_')), [...found].join());
});

// --- Enabling / disabling toolkits --------------------------------------------------------

for (const [label, toolkits] of [['array', ['github', 'gmail', 'slack']], ['enable object', { enable: ['github', 'gmail', 'slack'] }]]) {
  test(`enable toolkits (${label}) restricts the session`, async () => {
    const session = await composio.create(newUser(), { toolkits });
    assert.deepEqual(session.config.toolkits.enabled ?? session.config.toolkits.enable, ['github', 'gmail', 'slack']);
    assert.deepEqual((await toolkitSlugs(session)).sort(), ['github', 'gmail', 'slack']);
    const found = [...(await searchSlugs(session, 'create a page in notion and send a message'))];
    assert.ok(found.length > 0);
    assert.ok(found.every((s) => /^(GITHUB|GMAIL|SLACK)_/.test(s)), found.join());
    const e = await rejects(() => session.execute('NOTION_CREATE_PAGE', {}));
    assert.equal(e.status, 403);
    assert.match(e.message, /NOTION_CREATE_PAGE/);
  });
}

test('disable toolkits keeps everything else', async () => {
  const session = await composio.create(newUser(), { toolkits: { disable: ['exa', 'firecrawl'] } });
  const slugs = await toolkitSlugs(session);
  assert.ok(!slugs.includes('exa') && !slugs.includes('firecrawl'));
  for (const s of ['github', 'gmail', 'slack', 'notion']) assert.ok(slugs.includes(s), s);
  const found = [...(await searchSlugs(session, 'scrape a web page and crawl a website'))];
  assert.ok(!found.some((s) => /^(EXA|FIRECRAWL)_/.test(s)), found.join());
});

test('enable and disable together is refused (by the SDK itself)', async () => {
  // @composio/core's schema refuses the combination before any request (a ZodError, no HTTP
  // status); the server's own 400 for it is checked through the Python SDK, which sends it.
  const e = await rejects(() => composio.create(newUser(), { toolkits: { enable: ['gmail'], disable: ['exa'] } }));
  assert.equal(e.constructor.name, 'ZodError');
  assert.equal(e.status, undefined);
});

test('unknown toolkit is refused by name', async () => {
  const e = await rejects(() => composio.create(newUser(), { toolkits: ['github', 'not_a_toolkit'] }));
  assert.equal(e.status, 400);
  assert.match(e.message, /not_a_toolkit/);
});

// --- Preloading tools ---------------------------------------------------------------------

test('preload tools lists them before the default meta tools', async () => {
  const session = await composio.create(newUser(), {
    toolkits: ['gmail'],
    preload: { tools: ['GMAIL_FETCH_EMAILS', 'GMAIL_CREATE_EMAIL_DRAFT'] },
  });
  const tools = await session.tools();
  assert.deepEqual(tools.map((tool) => tool.function.name), ['GMAIL_FETCH_EMAILS', 'GMAIL_CREATE_EMAIL_DRAFT', ...DEFAULT_META]);
});

test('preload "all" lists every allowed tool', async () => {
  const session = await composio.create(newUser(), { toolkits: ['gmail'], preload: { tools: 'all' } });
  const gmail = (await api('GET', '/api/v3.1/tools?toolkit_slug=gmail&limit=200')).items.map((t) => t.slug);
  const listed = names(await session.tools());
  assert.deepEqual(listed.slice(0, gmail.length).sort(), [...gmail].sort());
  assert.deepEqual(listed.slice(gmail.length), DEFAULT_META);
});

test('preload is refused with multi-account', async () => {
  const e = await rejects(() => composio.create(newUser(), {
    toolkits: ['gmail'], preload: { tools: ['GMAIL_FETCH_EMAILS'] }, multiAccount: { enable: true },
  }));
  assert.equal(e.status, 400);
  assert.match(e.message, /preload/);
});

// --- Direct tools preset ------------------------------------------------------------------

test('direct tools preset lists only the enabled tools', async () => {
  const session = await composio.create(newUser(), {
    toolkits: ['gmail'],
    tools: { gmail: { enable: ['GMAIL_FETCH_EMAILS', 'GMAIL_CREATE_EMAIL_DRAFT'] } },
    sessionPreset: SessionPreset.DIRECT_TOOLS,
  });
  const tools = await session.tools();
  assert.deepEqual(tools.map((tool) => tool.function.name), ['GMAIL_FETCH_EMAILS', 'GMAIL_CREATE_EMAIL_DRAFT']);
});

test('direct tools preset with selected meta tools', async () => {
  const session = await composio.create(newUser(), {
    toolkits: ['gmail'],
    tools: { gmail: { enable: ['GMAIL_FETCH_EMAILS', 'GMAIL_CREATE_EMAIL_DRAFT'] } },
    sessionPreset: SessionPreset.DIRECT_TOOLS,
    manageConnections: { enable: true },
    workbench: { enable: true },
  });
  const tools = await session.tools();
  assert.deepEqual(tools.map((tool) => tool.function.name), [
    'GMAIL_FETCH_EMAILS',
    'GMAIL_CREATE_EMAIL_DRAFT',
    'COMPOSIO_MANAGE_CONNECTIONS',
    'COMPOSIO_REMOTE_WORKBENCH',
    'COMPOSIO_REMOTE_BASH_TOOL',
  ]);
});

test('unknown tool slug is refused by name', async () => {
  const e = await rejects(() => composio.create(newUser(), {
    toolkits: ['gmail'], tools: { gmail: { enable: ['GMAIL_FETCH_EMAILS', 'GMAIL_NOPE'] } },
  }));
  assert.equal(e.status, 400);
  assert.match(e.message, /GMAIL_NOPE/);
});

// --- Custom auth configs ------------------------------------------------------------------

test('custom auth configs are used for connections', async () => {
  const github = await createAuthConfig('github');
  const slack = await createAuthConfig('slack');
  await createAuthConfig('github'); // another config of the project: the pin must win
  const session = await composio.create(newUser(), { authConfigs: { github, slack } });
  assert.deepEqual(session.config.authConfigs ?? session.config.auth_configs, { github, slack });
  const request = await session.authorize('github', { callbackUrl: 'https://myapp.com/callback' });
  const account = await api('GET', `/api/v3.1/connected_accounts/${request.id}`);
  assert.equal(account.auth_config.id, github);
  assert.equal(account.status, 'INITIATED');
});

test('an auth config pin selects the account on that config', async () => {
  const user = newUser();
  const pinned = await createAuthConfig('github');
  const pinnedToken = token('pinned');
  await connect(user, 'github', pinnedToken, pinned);
  const newerToken = token('newer');
  await connect(user, 'github', newerToken);
  const session = await composio.create(user, { toolkits: ['github'], authConfigs: { github: pinned } });
  const r = await session.execute('GITHUB_GET_AUTHENTICATED_USER', {});
  assert.equal(r.error, null);
  assert.equal(r.data.login, 'pinned');
  assert.equal((await upstream('github', newerToken)).length, 0);
});

test('an unknown auth config id is refused', async () => {
  const e = await rejects(() => composio.create(newUser(), { authConfigs: { github: 'ac_your_github_config' } }));
  assert.ok([400, 404].includes(e.status), String(e.status));
  assert.match(e.message, /ac_your_github_config/);
});

// --- Account selection and precedence -----------------------------------------------------

for (const asString of [false, true]) {
  test(`connected accounts (${asString ? 'strings' : 'arrays'}) pin which account is used`, async () => {
    const user = newUser();
    const workToken = token('work');
    const personalToken = token('personal');
    const work = await connect(user, 'gmail', workToken);
    await connect(user, 'gmail', token('newest'));
    const personal = await connect(user, 'github', personalToken);
    await connect(user, 'github', token('other'));
    const connectedAccounts = asString ? { gmail: work, github: personal } : { gmail: [work], github: [personal] };
    const session = await composio.create(user, { connectedAccounts });
    const echoed = session.config.connectedAccounts ?? session.config.connected_accounts;
    assert.deepEqual(echoed, { gmail: [work], github: [personal] });
    let r = await session.execute('GMAIL_FETCH_EMAILS', { max_results: 1 });
    assert.equal(r.error, null);
    assert.match(r.data.messages[0].id, /^work-/);
    r = await session.execute('GITHUB_GET_AUTHENTICATED_USER', {});
    assert.equal(r.data.login, 'personal');
    assert.equal((await upstream('gmail', workToken)).at(-1).path, '/gmail/v1/users/me/messages');
  });
}

test('the most recently connected account is used', async () => {
  const user = newUser();
  await connect(user, 'github', token('older'));
  const newest = token('newest');
  await connect(user, 'github', newest);
  const session = await composio.create(user, { toolkits: ['github'] });
  const r = await session.execute('GITHUB_GET_AUTHENTICATED_USER', {});
  assert.equal(r.data.login, 'newest');
  assert.equal((await upstream('github', newest)).length, 1);
});

test('two pinned accounts need multi-account', async () => {
  const user = newUser();
  const a = await connect(user, 'gmail', token('a'));
  const b = await connect(user, 'gmail', token('b'));
  const e = await rejects(() => composio.create(user, { connectedAccounts: { gmail: [a, b] } }));
  assert.equal(e.status, 400);
  assert.match(e.message, /multi/i);
});

test("another user's account cannot be pinned", async () => {
  const user = newUser();
  const theirs = await connect(`${user}_other`, 'gmail', token('theirs'));
  const e = await rejects(() => composio.create(user, { connectedAccounts: { gmail: [theirs] } }));
  assert.ok([400, 404].includes(e.status), String(e.status));
  assert.ok(e.message.includes(theirs));
});

test('without an account the tool fails with a connect hint', async () => {
  const session = await composio.create(newUser(), { toolkits: ['github'] });
  const r = await session.execute('GITHUB_GET_AUTHENTICATED_USER', {});
  assert.ok(r.error);
  assert.match(r.error, /github/i);
  assert.match(r.error, /connect/i);
});

test('003: connected accounts persist across sessions', async () => {
  const user = newUser();
  const first = await composio.create(user, { toolkits: ['github'] });
  const request = await first.authorize('github');
  const done = request.waitForConnection(15000);
  await submitConnectForm(request.redirectUrl, 'github', token('persisted'));
  await done;
  const second = await composio.create(user, { toolkits: ['github'] });
  const r = await second.execute('GITHUB_GET_AUTHENTICATED_USER', {});
  assert.equal(r.data.login, 'persisted');
});

// --- Workbench ----------------------------------------------------------------------------

test('disabling the workbench removes its tools and rejects direct calls with a 400', async () => {
  const session = await composio.create(newUser(), { workbench: { enable: false } });
  const listed = names(await session.tools());
  assert.ok(!listed.includes('COMPOSIO_REMOTE_WORKBENCH') && !listed.includes('COMPOSIO_REMOTE_BASH_TOOL'));
  assert.ok(listed.includes('COMPOSIO_SEARCH_TOOLS'));
  assert.doesNotMatch(session.experimental?.assistivePrompt ?? '', /workbench/i);
  const e = await rejects(() => session.execute('COMPOSIO_REMOTE_WORKBENCH', { code_to_execute: '1+1' }));
  assert.equal(e.status, 400);
});

for (const size of ['standard', 'medium', 'large', 'xlarge']) {
  test(`sandbox size ${size} is kept`, async () => {
    const session = await composio.create(newUser(), { workbench: { enable: true, sandboxSize: size } });
    const wb = session.config.workbench;
    assert.equal(wb.sandboxSize ?? wb.sandbox_size, size);
    const again = await composio.use(session.sessionId);
    assert.equal(again.config.workbench.sandboxSize ?? again.config.workbench.sandbox_size, size);
  });
}

// --- Session methods ----------------------------------------------------------------------

test('session.mcp has the URL and, on the same origin, the headers', async () => {
  const session = await composio.create(newUser());
  const { mcp } = session;
  assert.ok(mcp.url.startsWith(`${BASE}/`) && mcp.url.includes(session.sessionId), mcp.url);
  assert.equal(mcp.type, 'http');
  assert.deepEqual(mcp.headers, { 'x-api-key': API_KEY });
  const strict = await composio.create(newUser(), { mcp: true }); // throws on an origin mismatch
  assert.ok(strict.mcp.url.startsWith(BASE));
});

test('session.tools() are OpenAI tools', async () => {
  const session = await composio.create(newUser());
  const tools = await session.tools();
  const search = tools.find((t) => t.function.name === 'COMPOSIO_SEARCH_TOOLS');
  assert.equal(search.type, 'function');
  assert.equal(search.function.parameters.type, 'object');
  assert.ok(search.function.parameters.properties.queries);
});

test('authorize() with a callback URL, then waitForConnection()', async () => {
  const user = newUser();
  const session = await composio.create(user);
  const connectionRequest = await session.authorize('github', { callbackUrl: 'https://myapp.com/callback' });
  assert.ok(connectionRequest.redirectUrl.startsWith(`${BASE}/link/`));
  const waiting = connectionRequest.waitForConnection();
  const tok = token('octo');
  const res = await submitConnectForm(connectionRequest.redirectUrl, 'github', tok);
  const location = new URL(res.headers.get('location'));
  assert.equal(location.origin + location.pathname, 'https://myapp.com/callback');
  assert.equal(location.searchParams.get('status'), 'success');
  assert.equal(location.searchParams.get('connected_account_id'), connectionRequest.id);
  const connectedAccount = await waiting;
  assert.equal(connectedAccount.status, 'ACTIVE');
  assert.equal(connectedAccount.id, connectionRequest.id);
  const r = await session.execute('GITHUB_GET_AUTHENTICATED_USER', {});
  assert.equal(r.data.login, 'octo');
  assert.equal((await upstream('github', tok)).length, 1);
});

test('authorize() refuses a callback URL off the allowlist', async () => {
  const session = await composio.create(newUser());
  const e = await rejects(() => session.authorize('github', { callbackUrl: 'https://evil.example.net/steal' }));
  assert.equal(e.status, 400);
  assert.match(e.message, /callback/i);
});

test('ensureConnected() returns at once for a connected toolkit', async () => {
  const user = newUser();
  await connect(user, 'gmail', token('ensured'));
  const session = await composio.create(user);
  await session.ensureConnected('gmail', { timeout: 5000 });
  const r = await session.execute('GMAIL_FETCH_EMAILS', { max_results: 1 });
  assert.match(r.data.messages[0].id, /^ensured-/);
});

test('toolkits() shows each toolkit and its connection', async () => {
  const user = newUser();
  const session = await composio.create(user, { toolkits: ['github', 'gmail', 'slack'] });
  const account = await connect(user, 'github', token('shown'));
  const toolkits = await session.toolkits();
  const lines = {};
  toolkits.items.forEach((toolkit) => {
    lines[toolkit.name] = toolkit.connection?.connectedAccount?.id ?? 'Not connected';
  });
  assert.deepEqual(lines, { GitHub: account, Gmail: 'Not connected', Slack: 'Not connected' });
  const connected = await session.toolkits({ isConnected: true });
  assert.deepEqual(connected.items.map((t) => t.slug), ['github']);
});

test('toolkits() returns the first 20 by default', async () => {
  const session = await composio.create(newUser());
  const total = (await api('GET', '/api/v3.1/toolkits?limit=100')).items.length;
  assert.ok(total > 20, 'the harness loads extra toolkits so paging shows');
  const first = await session.toolkits();
  assert.equal(first.items.length, 20);
  assert.equal(first.totalPages, Math.ceil(total / 20));
  // @composio/core 0.21 returns the next page's cursor as `cursor` (the seed's type says nextCursor).
  assert.ok(first.cursor);
  const rest = await session.toolkits({ cursor: first.cursor });
  assert.equal(first.items.length + rest.items.length, total);
});

test('use() continues an existing session; an unknown id is a 404', async () => {
  const session = await composio.create(newUser(), { toolkits: ['gmail'] });
  const again = await composio.use(session.sessionId);
  assert.equal(again.sessionId, session.sessionId);
  assert.deepEqual(names(await again.tools()), names(await session.tools()));
  const e = await rejects(() => composio.use('trs_does_not_exist'));
  assert.equal(e.status, 404);
});

test('a wrong API key is refused with the envelope', async () => {
  const session = await composio.create(newUser());
  const stranger = sdk({ apiKey: 'trk_not_a_real_key' });
  const e = await rejects(() => stranger.use(session.sessionId));
  assert.equal(e.status, 401);
  for (const k of ['message', 'code', 'slug', 'status']) assert.ok(k in e.error.error, k);
});
