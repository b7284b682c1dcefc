// Seed 001's "Instructions for AI code generators" (native tools, MCP) and seed 002 (concepts:
// composio.use, the connection flow, the meta tools table), through the official TypeScript SDK
// against a real toolrouter: every meta tool does what the seed's table says.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Composio } from '@composio/core';

import { API_KEY, BASE, DEFAULT_META, connect, names, newUser, sdk, submitConnectForm, token, upstream } from './support.mjs';

const composio = sdk();

test('native tools with the default provider', async () => {
  // ✅ CORRECT — TypeScript (defaults to OpenAI)
  const c = new Composio({ allowTracking: false, disableVersionCheck: true });
  const session = await c.create(newUser());
  const tools = await session.tools();
  assert.deepEqual(names(tools), DEFAULT_META);
  assert.ok(tools.every((t) => t.type === 'function'));
});

test('MCP: session.mcp.url and session.mcp.headers', async () => {
  const session = await composio.create(newUser());
  assert.ok(session.mcp.url.startsWith(BASE) && session.mcp.url.includes(session.sessionId));
  assert.deepEqual(session.mcp.headers, { 'x-api-key': API_KEY });
});

test('COMPOSIO_SEARCH_TOOLS finds the right tools and reports connections', async () => {
  const session = await composio.create(newUser(), { toolkits: ['gmail', 'github', 'slack'] });
  const r = await session.execute('COMPOSIO_SEARCH_TOOLS', {
    queries: [{ use_case: 'send an email to a colleague' }, { use_case: 'open an issue in a github repository' }],
  });
  assert.equal(r.error, null);
  assert.match(r.logId, /^log_/);
  const [email, issue] = r.data.results;
  assert.ok(email.primary_tool_slugs.includes('GMAIL_SEND_EMAIL'));
  assert.ok(issue.primary_tool_slugs.includes('GITHUB_CREATE_ISSUE'));
  assert.ok('GMAIL_SEND_EMAIL' in r.data.tool_schemas);
  const statuses = Object.fromEntries(r.data.toolkit_connection_statuses.map((s) => [s.toolkit, s.has_active_connection]));
  assert.equal(statuses.gmail, false);
});

test('session.search() (TS sends toolkits too)', async () => {
  const session = await composio.create(newUser(), { toolkits: ['slack', 'gmail'] });
  const result = await session.search({ query: 'post a message to a channel', toolkits: ['slack'] });
  assert.equal(result.success, true);
  assert.ok(result.results[0].primaryToolSlugs.includes('SLACK_SEND_MESSAGE'));
});

test('COMPOSIO_GET_TOOL_SCHEMAS returns schemas and close matches', async () => {
  const session = await composio.create(newUser(), { toolkits: ['gmail'] });
  const r = await session.execute('COMPOSIO_GET_TOOL_SCHEMAS', { tool_slugs: ['GMAIL_SEND_EMAIL', 'GMAIL_SEND_EMAL'] });
  const text = JSON.stringify(r.data);
  assert.ok(text.includes('recipient_email'));
  assert.ok(text.includes('GMAIL_SEND_EMAL'));
});

test('COMPOSIO_MANAGE_CONNECTIONS gives a link, then reports active', async () => {
  const session = await composio.create(newUser(), { toolkits: ['github'] });
  let r = await session.execute('COMPOSIO_MANAGE_CONNECTIONS', { toolkits: ['github'] });
  const github = r.data.results.github;
  assert.equal(github.status, 'initiated');
  await submitConnectForm(github.redirect_url, 'github', token('managed'));
  r = await session.execute('COMPOSIO_MANAGE_CONNECTIONS', { toolkits: ['github'] });
  assert.equal(r.data.results.github.status, 'active');
  r = await session.execute('GITHUB_GET_AUTHENTICATED_USER', {});
  assert.equal(r.data.login, 'managed');
});

test('COMPOSIO_MULTI_EXECUTE_TOOL runs tools in order with each account', async () => {
  const user = newUser();
  const gh = token('octo');
  const sl = token('bot');
  await connect(user, 'github', gh);
  await connect(user, 'slack', sl);
  const session = await composio.create(user, { toolkits: ['github', 'slack'] });
  const r = await session.execute('COMPOSIO_MULTI_EXECUTE_TOOL', {
    tools: [
      { tool_slug: 'GITHUB_CREATE_ISSUE', arguments: { owner: 'octo', repo: 'hello', title: 'Crash on start' } },
      { tool_slug: 'SLACK_SEND_MESSAGE', arguments: { channel: 'C0123', text: 'Filed the crash' } },
      { tool_slug: 'GITHUB_CREATE_ISSUE', arguments: { owner: 'octo', repo: 'hello' } },
    ],
    sync_response_to_workbench: false,
  });
  const results = r.data.results;
  assert.deepEqual(results.map((x) => x.tool_slug), ['GITHUB_CREATE_ISSUE', 'SLACK_SEND_MESSAGE', 'GITHUB_CREATE_ISSUE']);
  assert.equal(results[0].response.data.number, 42);
  assert.equal(results[1].response.data.channel, 'C0123');
  assert.ok(!results[2].response?.successful);
  assert.match(JSON.stringify(results[2]), /title/);
  const issues = await upstream('github', gh);
  assert.equal(issues.length, 1);
  assert.deepEqual(issues[0].body, { title: 'Crash on start' });
  assert.deepEqual((await upstream('slack', sl))[0].body, { channel: 'C0123', text: 'Filed the crash' });
});

test('meta tools share context across turns (search, then execute on the reused session)', async () => {
  const user = newUser();
  const tok = token('ctx');
  await connect(user, 'gmail', tok);
  const session = await composio.create(user, { toolkits: ['gmail'] });
  const found = await session.execute('COMPOSIO_SEARCH_TOOLS', { queries: [{ use_case: 'draft an email' }] });
  assert.ok(found.data.results[0].primary_tool_slugs.includes('GMAIL_CREATE_EMAIL_DRAFT'));
  const later = await composio.use(session.sessionId);
  const r = await later.execute('GMAIL_CREATE_EMAIL_DRAFT', { recipient_email: 'team@example.com', subject: 'Plan', body: 'Draft.' });
  assert.equal(r.error, null);
  assert.deepEqual(r.data.message.labelIds, ['DRAFT']);
  const raw = (await upstream('gmail', tok)).at(-1).body.message.raw;
  const decoded = Buffer.from(raw, 'base64url').toString();
  assert.ok(decoded.includes('To: team@example.com') && decoded.includes('Subject: Plan'));
});

test('an upstream failure is a failed result, not an HTTP error', async () => {
  const user = newUser();
  await connect(user, 'github', `revoked${token('x')}`);
  const session = await composio.create(user, { toolkits: ['github'] });
  const r = await session.execute('GITHUB_GET_AUTHENTICATED_USER', {});
  assert.ok(r.error);
  assert.match(r.error, /Bad credentials|401/);
});

test('arguments are checked against the schema before anything is sent', async () => {
  const user = newUser();
  const tok = token('schema');
  await connect(user, 'github', tok);
  const session = await composio.create(user, { toolkits: ['github'] });
  const r = await session.execute('GITHUB_CREATE_ISSUE', { owner: 'octo', repo: 'hello', title: 5 });
  assert.ok(r.error);
  assert.match(r.error, /title/);
  assert.equal((await upstream('github', tok)).length, 0);
});
