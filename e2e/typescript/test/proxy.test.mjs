// session.proxyExecute (CONTRACT.md §3.12): an authenticated passthrough to the toolkit's API
// with the user's account, limited to the toolkit's base URL. Depends on proxy execute.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { connect, newUser, rejects, sdk, token, upstream } from './support.mjs';

const composio = sdk();

test("proxyExecute sends the user's credential", async () => {
  const user = newUser();
  const tok = token('proxied');
  await connect(user, 'github', tok);
  const session = await composio.create(user, { toolkits: ['github'] });
  const r = await session.proxyExecute({ toolkit: 'github', endpoint: '/user', method: 'GET', parameters: [{ in: 'query', name: 'per_page', value: 5 }] });
  assert.equal(r.status, 200);
  assert.equal(r.data.login, 'proxied');
  const seen = (await upstream('github', tok)).at(-1);
  assert.equal(seen.path, '/user');
  assert.deepEqual(seen.query, { per_page: ['5'] });
});

test("proxyExecute stays on the toolkit's base URL", async () => {
  const user = newUser();
  const tok = token('contained');
  await connect(user, 'github', tok);
  const session = await composio.create(user, { toolkits: ['github'] });
  const e = await rejects(() => session.proxyExecute({ toolkit: 'github', endpoint: 'https://evil.example.net/steal', method: 'GET' }));
  assert.match(String(e.message), /evil\.example\.net|base/i);
  assert.equal((await upstream('github', tok)).length, 0);
});
