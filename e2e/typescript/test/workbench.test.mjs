// COMPOSIO_REMOTE_WORKBENCH / COMPOSIO_REMOTE_BASH_TOOL (seeds 000, 002: a persistent sandbox;
// changing sandboxSize recreates it on next access, /mnt/files survives), through the official
// TypeScript SDK. Depends on the workbench meta tools being served.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { connect, newUser, sdk, token, upstream } from './support.mjs';

const sdkClient = sdk();
// Sessions are deleted at the end: that stops their sandboxes, so finished tests do not hold the
// server's sandbox capacity.
const made = [];
const composio = { create: async (...a) => { const s = await sdkClient.create(...a); made.push(s); return s; } };
after(async () => { for (const s of made) await s.delete(); });

async function workbench(session, code) {
  const r = await session.execute('COMPOSIO_REMOTE_WORKBENCH', { code_to_execute: code });
  assert.equal(r.error, null);
  return r.data;
}

test('workbench state persists between calls', async () => {
  const session = await composio.create(newUser());
  await workbench(session, 'total = 40');
  const out = await workbench(session, "print('sum is', total + 2)\ntotal * 2");
  assert.match(out.stdout, /sum is 42/);
  assert.match(JSON.stringify(out.results), /80/);
});

test('bash and the workbench share /mnt/files', async () => {
  const session = await composio.create(newUser());
  const r = await session.execute('COMPOSIO_REMOTE_BASH_TOOL', { command: 'echo hello > /mnt/files/hello.txt && cat /mnt/files/hello.txt' });
  assert.equal(r.error, null);
  assert.equal(r.data.stdout.trim(), 'hello');
  const out = await workbench(session, "open('/mnt/files/hello.txt').read().strip()");
  assert.match(JSON.stringify(out.results), /hello/);
});

test("the workbench runs tools with the user's account", async () => {
  const user = newUser();
  const tok = token('sandboxed');
  await connect(user, 'github', tok);
  const session = await composio.create(user, { toolkits: ['github'] });
  const out = await workbench(session, "print(run_composio_tool('GITHUB_GET_AUTHENTICATED_USER', {}))");
  assert.match(out.stdout, /sandboxed/);
  assert.equal((await upstream('github', tok))[0].path, '/user');
});

test('changing sandboxSize keeps /mnt/files but not memory', async () => {
  const session = await composio.create(newUser(), { workbench: { enable: true, sandboxSize: 'standard' } });
  await workbench(session, "kept_in_memory = 1\nopen('/mnt/files/kept.txt', 'w').write('on disk')");
  await session.update({ workbench: { sandboxSize: 'medium' } });
  const out = await workbench(session, "print('defined' if 'kept_in_memory' in globals() else 'fresh')\nopen('/mnt/files/kept.txt').read()");
  assert.match(out.stdout, /fresh/);
  assert.match(JSON.stringify(out.results), /on disk/);
});
