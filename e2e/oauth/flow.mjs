// The OAuth2 connect flow end to end, with nothing faked on toolrouter's side: a real
// authorization server (oidc-provider) on loopback, the real toolrouter binary, and a real
// headless Chromium clicking through the provider's login and consent pages.
//
// link -> toolrouter's connect page -> provider login + consent -> toolrouter's callback ->
// the app's callback URL -> the account reads ACTIVE -> a tool call carries the access token,
// which the API stand-in (served next to the provider) checks against the provider's own
// token store. Then the negative paths a browser can reach: a replayed callback and a reused
// link both show an error page and change nothing.
//
// Usage: node flow.mjs path/to/toolrouter
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import assert from 'node:assert/strict';

import Provider from 'oidc-provider';
import { chromium } from 'playwright-core';

const binary = process.argv[2];
assert.ok(binary, 'usage: node flow.mjs path/to/toolrouter');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CLIENT_ID = 'toolrouter-e2e';
const CLIENT_SECRET = `e2e-client-secret-${Date.now()}`;
const work = mkdtempSync(join(tmpdir(), 'toolrouter-e2e-oauth-'));
const cleanups = [];
const log = (...a) => console.log('[e2e/oauth]', ...a);

async function main() {
  // 1. The provider's port first: the toolkit definition names its endpoints.
  let handler = (_req, res) => { res.statusCode = 503; res.end('starting'); };
  const server = http.createServer((req, res) => handler(req, res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => server.close());
  const issuer = `http://127.0.0.1:${server.address().port}`;

  // 2. A toolkit whose OAuth endpoints are the provider's and whose API is the stand-in.
  const toolkits = join(work, 'toolkits');
  mkdirSync(toolkits);
  writeFileSync(join(toolkits, 'e2eauth.json'), JSON.stringify({
    slug: 'e2eauth', name: 'E2E Auth', description: 'A test service behind a real OAuth2 server.',
    base_url: `${issuer}/api`,
    auth_schemes: [{
      type: 'OAUTH2',
      oauth2: { authorize_url: `${issuer}/auth`, token_url: `${issuer}/token`,
                default_scopes: ['openid', 'offline_access', 'read'] },
      inject: [{ in: 'header', name: 'Authorization', value: 'Bearer {access_token}' }],
    }],
    tools: [{ slug: 'E2EAUTH_WHOAMI', name: 'Who am I',
              description: 'Return the account the access token was issued to.',
              input: { type: 'object' }, http: { method: 'GET', path: '/whoami' } }],
  }));

  // 3. toolrouter, on port 0, allowed to reach loopback and to send users back to /done.
  const data = join(work, 'data');
  const tr = spawn(binary, [
    'serve', '--listen', '127.0.0.1:0', '--log-format', 'json', '--data-dir', data,
    '--toolkits-dir', toolkits, '--outbound-allow', '127.0.0.1',
    '--callback-url', `${issuer}/done`,
  ], { env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TOOLROUTER_'))) });
  cleanups.push(() => tr.kill('SIGTERM'));
  let logs = '';
  tr.stderr.on('data', (b) => { logs += b; });
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`toolrouter not ready:\n${logs}`)), 60000);
    tr.stderr.on('data', () => {
      for (const line of logs.split('\n')) {
        try {
          const v = JSON.parse(line);
          if (typeof v.message === 'string' && v.message.startsWith('toolrouter ready on ')) {
            clearTimeout(timer);
            resolve(`http://${v.addr}`);
          }
        } catch { /* not a JSON line yet */ }
      }
    });
    tr.on('exit', (code) => reject(new Error(`toolrouter exited (${code}):\n${logs}`)));
  });
  const key = readFileSync(join(data, 'api-key'), 'utf8').trim();
  log('toolrouter at', base);

  // 4. The provider, now that toolrouter's redirect URI is known.
  const provider = new Provider(issuer, {
    clients: [{
      client_id: CLIENT_ID, client_secret: CLIENT_SECRET,
      redirect_uris: [`${base}/link/callback`],
      grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    }],
    scopes: ['openid', 'offline_access', 'read'],
    pkce: { required: () => true },
    issueRefreshToken: async () => true,
    cookies: { keys: ['e2e-cookie-key'] },
    ttl: { AccessToken: 3600, RefreshToken: 86400, Grant: 86400, Interaction: 600, Session: 3600, IdToken: 3600 },
    findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
  });
  const oidc = provider.callback();
  let apiCalls = 0;
  handler = async (req, res) => {
    if (req.url.startsWith('/done')) {
      res.setHeader('content-type', 'text/html');
      res.end('<!doctype html><title>done</title><h1>Back in the app</h1>');
      return;
    }
    if (req.url.startsWith('/api/whoami')) {
      apiCalls += 1;
      const auth = req.headers.authorization || '';
      const token = auth.startsWith('Bearer ') ? await provider.AccessToken.find(auth.slice(7)) : undefined;
      res.setHeader('content-type', 'application/json');
      if (!token) {
        res.statusCode = 401;
        res.end(JSON.stringify({ message: 'invalid token' }));
        return;
      }
      res.end(JSON.stringify({ sub: token.accountId, client: token.clientId, scope: token.scope }));
      return;
    }
    oidc(req, res);
  };

  const api = async (method, path, body) => {
    const res = await fetch(`${base}/api/v3.1${path}`, {
      method, headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    return { status: res.status, json };
  };

  // 5. A custom auth config with the provider's client, and a connect link.
  const created = await api('POST', '/auth_configs', {
    toolkit: { slug: 'e2eauth' },
    auth_config: { type: 'use_custom_auth', authScheme: 'OAUTH2',
                   credentials: { client_id: CLIENT_ID, client_secret: CLIENT_SECRET } },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const configId = created.json.auth_config.id;
  const linked = await api('POST', '/connected_accounts/link', {
    auth_config_id: configId, user_id: 'e2e-user', callback_url: `${issuer}/done`,
  });
  assert.equal(linked.status, 201, JSON.stringify(linked.json));
  const { redirect_url: redirectUrl, connected_account_id: accountId } = linked.json;
  assert.ok(redirectUrl.startsWith(`${base}/link/lk_`), redirectUrl);
  const pending = await api('GET', `/connected_accounts/${accountId}`);
  assert.equal(pending.json.status, 'INITIATED');

  // 6. The user, in a real browser with a fresh profile.
  const profile = join(work, 'chromium-profile');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  cleanups.push(() => context.close());
  const page = context.pages()[0] || await context.newPage();
  let callbackUrl;
  page.on('request', (r) => { if (r.url().startsWith(`${base}/link/callback`)) callbackUrl = r.url(); });
  await page.goto(redirectUrl);
  await page.waitForSelector('input[name="login"]');
  assert.ok(page.url().startsWith(`${issuer}/interaction/`), page.url());
  await page.fill('input[name="login"]', 'e2e-account-42');
  await page.fill('input[name="password"]', 'anything');
  await page.click('button[type="submit"]');
  await page.waitForSelector('button:has-text("Continue")');
  await page.click('button:has-text("Continue")');
  await page.waitForURL((u) => u.toString().startsWith(`${issuer}/done`), { timeout: 30000 });
  const back = new URL(page.url());
  assert.equal(back.searchParams.get('status'), 'success', page.url());
  assert.equal(back.searchParams.get('connected_account_id'), accountId);
  assert.ok(callbackUrl, 'the provider sent the browser to toolrouter\'s callback');
  log('browser came back to the app');

  // 7. What wait_for_connection does: poll until ACTIVE.
  let account;
  for (let i = 0; i < 30; i += 1) {
    account = (await api('GET', `/connected_accounts/${accountId}`)).json;
    if (account.status !== 'INITIATED') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(account.status, 'ACTIVE', JSON.stringify(account));
  assert.equal(account.auth_config.id, configId);
  assert.match(account.state.val.access_token, /\*{8}$/, 'tokens are masked');

  // 8. A tool call carries the access token; the provider's token store vouches for it.
  const executed = await api('POST', '/tools/execute/E2EAUTH_WHOAMI', { user_id: 'e2e-user', arguments: {} });
  assert.equal(executed.status, 200, JSON.stringify(executed.json));
  assert.equal(executed.json.successful, true, JSON.stringify(executed.json));
  assert.equal(executed.json.data.sub, 'e2e-account-42');
  assert.equal(executed.json.data.client, CLIENT_ID);
  log('tool call authenticated as', executed.json.data.sub);

  // 8b. A refresh against the real token endpoint (refresh_token grant, rotated token).
  const refreshed = await api('POST', `/connected_accounts/${accountId}/refresh`, {});
  assert.equal(refreshed.status, 200, JSON.stringify(refreshed.json));
  assert.equal(refreshed.json.status, 'ACTIVE');
  assert.equal(refreshed.json.redirect_url, null, 'refreshed in place, no new link');
  const again = await api('POST', '/tools/execute/E2EAUTH_WHOAMI', { user_id: 'e2e-user', arguments: {} });
  assert.equal(again.json.successful, true, JSON.stringify(again.json));
  assert.equal(again.json.data.sub, 'e2e-account-42');
  account = (await api('GET', `/connected_accounts/${accountId}`)).json;

  // 9. Replaying the callback, or reopening the link, shows a page and changes nothing.
  const replay = await page.goto(callbackUrl);
  assert.equal(replay.status(), 409, 'a reused state is refused');
  assert.match(await page.textContent('h1'), /already used/i);
  const reopen = await page.goto(redirectUrl);
  assert.equal(reopen.status(), 409);
  const tampered = await page.goto(callbackUrl.replace(/state=([^&]{4})/, 'state=AAAA'));
  assert.equal(tampered.status(), 404, 'a tampered state is refused');
  const still = (await api('GET', `/connected_accounts/${accountId}`)).json;
  assert.equal(still.status, 'ACTIVE');
  assert.equal(still.updated_at, account.updated_at, 'nothing changed');

  // 10. Secrets never reached toolrouter's logs.
  for (const secret of [CLIENT_SECRET, key.slice(4)]) {
    assert.ok(!logs.includes(secret), 'a secret reached the logs');
  }
  log('all checks passed');
}

let failed = false;
try {
  await main();
} catch (e) {
  failed = true;
  console.error('[e2e/oauth] FAILED:', e);
} finally {
  for (const c of cleanups.reverse()) {
    try { await c(); } catch { /* best effort */ }
  }
  rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
