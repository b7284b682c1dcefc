// COMPOSIO_WAIT_FOR_CONNECTIONS (opt-in with manageConnections.waitForConnections): the agent
// waits until the user finished connecting. Depends on that meta tool being served.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { names, newUser, sdk, submitConnectForm, token } from './support.mjs';

const composio = sdk();

test('waits until the user connected', async () => {
  const session = await composio.create(newUser(), { toolkits: ['github'], manageConnections: { enable: true, waitForConnections: true } });
  assert.ok(names(await session.tools()).includes('COMPOSIO_WAIT_FOR_CONNECTIONS'));
  const r = await session.execute('COMPOSIO_MANAGE_CONNECTIONS', { toolkits: ['github'] });
  const waiting = session.execute('COMPOSIO_WAIT_FOR_CONNECTIONS', { toolkits: ['github'] });
  await submitConnectForm(r.data.results.github.redirect_url, 'github', token('waited'));
  const done = await waiting;
  assert.equal(done.error, null);
  assert.match(JSON.stringify(done.data), /active/i);
});

test('is off by default', async () => {
  const session = await composio.create(newUser());
  assert.ok(!names(await session.tools()).includes('COMPOSIO_WAIT_FOR_CONNECTIONS'));
});
