// Helpers shared by the TypeScript SDK suite's tests.
//
// The suite runs under e2e/harness/harness.py, which starts toolrouter and the third-party
// stand-in and exports COMPOSIO_BASE_URL / COMPOSIO_API_KEY / E2E_STANDIN_URL. The official SDK
// reads the first two itself, as in the seed examples (`new Composio()`).
//
// Set-up the seeds leave to the project (auth configs, users' connected accounts) goes through
// toolrouter's REST API (docs/auth.md): an auth config, a connect link, and the hosted connect
// page's form submitted with the user's token, as a browser would.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Composio } from '@composio/core';

export const BASE = process.env.COMPOSIO_BASE_URL;
export const API_KEY = process.env.COMPOSIO_API_KEY;
export const STANDIN = process.env.E2E_STANDIN_URL;
export const PUBLIC_URL = process.env.E2E_PUBLIC_URL;
assert.ok(BASE && API_KEY && STANDIN, 'run under e2e/harness/harness.py');

// The field each toolkit's BEARER_TOKEN scheme asks for on the connect page.
const TOKEN_FIELD = { github: 'token', gmail: 'access_token', slack: 'token' };

export const DEFAULT_META = [
  'COMPOSIO_SEARCH_TOOLS',
  'COMPOSIO_GET_TOOL_SCHEMAS',
  'COMPOSIO_MULTI_EXECUTE_TOOL',
  'COMPOSIO_MANAGE_CONNECTIONS',
  'COMPOSIO_REMOTE_WORKBENCH',
  'COMPOSIO_REMOTE_BASH_TOOL',
];

/** The SDK as the seeds build it; key and base URL from the environment. */
export function sdk(options = {}) {
  return new Composio({ allowTracking: false, disableVersionCheck: true, ...options });
}

/** A fresh user per test, so tests never see each other's accounts. */
export const newUser = () => `user_${randomBytes(6).toString('hex')}`;

/** A unique upstream token whose owner (after the last `_`) is `label`. */
export const token = (label) => `tok${randomBytes(5).toString('hex')}_${label}`;

/** Names of provider-wrapped tools (OpenAI tools, or anything with a `slug`/`name`). */
export const names = (tools) => tools.map((t) => t.function?.name ?? t.slug ?? t.name);

/** A toolrouter REST call with the project's key (set-up and assertions only). */
export async function api(method, path, body) {
  const res = await fetch(`${BASE}${path}`, {
    method,
    headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw Object.assign(new Error(`${res.status} ${JSON.stringify(json)}`), { status: res.status, body: json });
  return json;
}

/** What the user does on the hosted connect page: type the token, press Connect. */
export async function submitConnectForm(redirectUrl, toolkit, tok) {
  assert.ok(redirectUrl.startsWith(`${PUBLIC_URL ?? BASE}/link/`), redirectUrl);
  const res = await fetch(redirectUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ [TOKEN_FIELD[toolkit]]: tok }),
    redirect: 'manual',
  });
  assert.ok([200, 303].includes(res.status), `connect page answered ${res.status}`);
  return res;
}

/** A custom BEARER_TOKEN auth config: the project's own, like `ac_your_github_config`. */
export async function createAuthConfig(toolkit) {
  const r = await api('POST', '/api/v3.1/auth_configs', {
    toolkit: { slug: toolkit },
    auth_config: { type: 'use_custom_auth', authScheme: 'BEARER_TOKEN', name: `${toolkit} e2e ${randomBytes(3).toString('hex')}` },
  });
  return r.auth_config.id;
}

/** Connects `userId`'s account on `toolkit` with `tok`; returns the ACTIVE account id. */
export async function connect(userId, toolkit, tok, authConfigId) {
  const ac = authConfigId ?? (await createAuthConfig(toolkit));
  const link = await api('POST', '/api/v3.1/connected_accounts/link', { auth_config_id: ac, user_id: userId });
  await submitConnectForm(link.redirect_url, toolkit, tok);
  const account = await api('GET', `/api/v3.1/connected_accounts/${link.connected_account_id}`);
  assert.equal(account.status, 'ACTIVE');
  return account.id;
}

/** What reached the third-party stand-in, optionally only one toolkit's / one token's. */
export async function upstream(toolkit, tok) {
  const items = await (await fetch(`${STANDIN}/__standin/requests`)).json();
  return items.filter((i) => (!toolkit || i.toolkit === toolkit) && (!tok || i.authorization === `Bearer ${tok}`));
}

/** Runs `fn`, which must throw; returns the error. */
export async function rejects(fn) {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  assert.fail('expected an error');
}

/** Every slug COMPOSIO_SEARCH_TOOLS proposes for a use case. */
export async function searchSlugs(session, query) {
  const r = await session.execute('COMPOSIO_SEARCH_TOOLS', { queries: [{ use_case: query }] });
  assert.equal(r.error, null);
  return new Set(r.data.results.flatMap((x) => [...(x.primary_tool_slugs ?? []), ...(x.related_tool_slugs ?? [])]));
}
