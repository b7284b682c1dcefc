// Seed 002 "Direct tool access": composio.tools.get / composio.tools.execute without a session,
// and the provider's user-id routing. Depends on direct tool access by user id.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { connect, newUser, sdk, token, upstream } from './support.mjs';

const composio = sdk();

test('tools.get for a user', async () => {
  const tools = await composio.tools.get(newUser(), { toolkits: ['github'], limit: 100 });
  const listed = tools.map((t) => t.function.name);
  assert.ok(listed.includes('GITHUB_CREATE_ISSUE'));
  assert.ok(listed.every((n) => n.startsWith('GITHUB_')));
});

test('tools.execute for a user', async () => {
  const user = newUser();
  const tok = token('direct');
  await connect(user, 'github', tok);
  const r = await composio.tools.execute('GITHUB_GET_AUTHENTICATED_USER', { userId: user, arguments: {}, dangerouslySkipVersionCheck: true });
  assert.equal(r.successful, true);
  assert.equal(r.data.login, 'direct');
  assert.equal((await upstream('github', tok))[0].path, '/user');
});

test('handleToolCalls by user id', async () => {
  const user = newUser();
  await connect(user, 'github', token('legacy'));
  const cc = { id: 'x', object: 'chat.completion', created: 0, model: 'gpt-4o', choices: [{ index: 0, finish_reason: 'tool_calls', logprobs: null, message: {
    role: 'assistant', content: null, refusal: null,
    tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'GITHUB_GET_AUTHENTICATED_USER', arguments: '{}' } }] } }] };
  const [message] = await composio.provider.handleToolCalls(user, cc);
  const out = JSON.parse(message.content);
  assert.equal(out.successful, true);
  assert.equal(out.data.login, 'legacy');
});
