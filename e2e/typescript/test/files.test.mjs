// The files mount (session.experimental.files, CONTRACT.md §3.15), including the presigned URLs
// the SDK fetches itself. The SDK refuses presigned URLs on non-public hosts, so
// e2e/typescript/run runs this file under e2e/harness/public_netns (toolrouter's public URL is a
// public address that exists only inside a private network namespace). Depends on the
// files-mount API.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { PUBLIC_URL, newUser, sdk } from './support.mjs';

const composio = sdk();

test('upload, list, download, delete', async () => {
  const session = await composio.create(newUser());
  const files = session.experimental.files;
  const uploaded = await files.upload(Buffer.from('quarterly numbers'), { remotePath: 'reports/q1.txt', mimetype: 'text/plain' });
  assert.equal(uploaded.mountRelativePath, 'reports/q1.txt');
  const listed = await files.list({ path: '/reports', limit: 10 });
  assert.deepEqual(listed.items.map((i) => i.mountRelativePath), ['reports/q1.txt']);
  const remote = await files.download('reports/q1.txt');
  assert.ok(remote.downloadUrl.startsWith(PUBLIC_URL), remote.downloadUrl);
  assert.equal(await remote.text(), 'quarterly numbers');
  await files.delete('reports/q1.txt');
  assert.equal((await files.list({ path: '/reports' })).items.length, 0);
});

test('uploaded files are visible in the sandbox', async () => {
  const session = await composio.create(newUser());
  await session.experimental.files.upload(Buffer.from('from the host'), { remotePath: 'shared.txt', mimetype: 'text/plain' });
  try {
    const r = await session.execute('COMPOSIO_REMOTE_BASH_TOOL', { command: 'cat /mnt/files/shared.txt' });
    assert.equal(r.data.stdout.trim(), 'from the host');
  } finally {
    await session.delete();
  }
});
