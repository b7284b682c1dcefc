// The seed examples that hand session tools to an LLM, through the default OpenAI provider's
// handleToolCalls and an agentic provider. No network LLM: the model's answer is a canned
// chat completion built locally; what the provider then does is checked end to end.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BaseAgenticProvider } from '@composio/core';

import { connect, newUser, sdk, token, upstream } from './support.mjs';

const composio = sdk();

const completion = (...calls) => ({
  id: 'chatcmpl-e2e', object: 'chat.completion', created: 0, model: 'gpt-4o',
  choices: [{ index: 0, finish_reason: 'tool_calls', logprobs: null, message: {
    role: 'assistant', content: null, refusal: null,
    tool_calls: calls.map(([name, args], i) => ({ id: `call_${i}`, type: 'function', function: { name, arguments: JSON.stringify(args) } })),
  } }],
});

test('OpenAI handleToolCalls runs meta and app tools through the session', async () => {
  const user = newUser();
  const tok = token('llm');
  await connect(user, 'gmail', tok);
  const session = await composio.create(user, { toolkits: ['gmail'], preload: { tools: ['GMAIL_SEND_EMAIL'] } });
  await session.tools();
  const messages = await composio.provider.handleToolCalls(session, completion(
    ['COMPOSIO_SEARCH_TOOLS', { queries: [{ use_case: 'send an email' }] }],
    ['GMAIL_SEND_EMAIL', { recipient_email: 'alice@example.com', subject: 'Hi', body: 'Hello Alice' }],
    ['COMPOSIO_MULTI_EXECUTE_TOOL', { tools: [{ tool_slug: 'GMAIL_FETCH_EMAILS', arguments: { max_results: 1 } }], sync_response_to_workbench: false }],
  ));
  assert.deepEqual(messages.map((m) => [m.role, m.tool_call_id]), [['tool', 'call_0'], ['tool', 'call_1'], ['tool', 'call_2']]);
  const [search, send, multi] = messages.map((m) => JSON.parse(m.content));
  assert.ok(search.successful && send.successful && multi.successful);
  assert.ok(search.data.results[0].primary_tool_slugs.includes('GMAIL_SEND_EMAIL'));
  assert.deepEqual(send.data.labelIds, ['SENT']);
  assert.match(send.logId, /^log_/);
  assert.equal(multi.data.results[0].response.data.messages[0].id, 'llm-m0');
  assert.deepEqual((await upstream('gmail', tok)).map((r) => r.path), ['/gmail/v1/users/me/messages/send', '/gmail/v1/users/me/messages']);
});

test('OpenAI handleToolCalls reports a failed tool', async () => {
  const session = await composio.create(newUser(), { toolkits: ['github'] });
  const [message] = await composio.provider.handleToolCalls(session, completion(['GITHUB_GET_AUTHENTICATED_USER', {}]));
  const out = JSON.parse(message.content);
  assert.equal(out.successful, false);
  assert.match(out.error, /github/i);
});

test('an agentic provider executes every tool through the session', async () => {
  class Captured extends BaseAgenticProvider {
    name = 'capture';
    wrapTool(tool, executeTool) { return { slug: tool.slug, run: (args) => executeTool(tool.slug, args) }; }
    wrapTools(tools, executeTool) { return tools.map((t) => this.wrapTool(t, executeTool)); }
  }
  const user = newUser();
  const tok = token('agent');
  await connect(user, 'github', tok);
  const agentic = sdk({ provider: new Captured() });
  const session = await agentic.create(user, { toolkits: ['github'], preload: { tools: ['GITHUB_GET_AUTHENTICATED_USER'] } });
  const tools = Object.fromEntries((await session.tools()).map((t) => [t.slug, t]));
  const me = await tools.GITHUB_GET_AUTHENTICATED_USER.run({});
  assert.equal(me.successful, true);
  assert.equal(me.data.login, 'agent');
  const found = await tools.COMPOSIO_SEARCH_TOOLS.run({ queries: [{ use_case: 'create an issue' }] });
  assert.ok(found.data.results[0].primary_tool_slugs.includes('GITHUB_CREATE_ISSUE'));
  assert.equal((await upstream('github', tok))[0].path, '/user');
});
