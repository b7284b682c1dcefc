// The official MCP TypeScript SDK (@modelcontextprotocol/sdk) against a toolrouter session's
// `mcp.url`, with the session's headers: list tools, find a tool with COMPOSIO_SEARCH_TOOLS and
// run it with COMPOSIO_MULTI_EXECUTE_TOOL (an agent with nothing but MCP), call the preloaded
// app tool directly, and check that a failure is an error result, not a protocol error. Then, on
// a session of its own whose permissions ask before every call, answer the server's approval
// questions (elicitation: approve, then decline) and hear `notifications/tools/list_changed`
// when the session is changed through the REST API.
//
// Usage: node client_test.mjs <mcp url> <api key>
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

const [url, key] = process.argv.slice(2);
const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { 'x-api-key': key } },
});
const client = new Client({ name: 'toolrouter-e2e', version: '0.0.0' });
await client.connect(transport);
console.log(`typescript: protocol ${transport.protocolVersion ?? '(default)'}`);
assert.equal(client.getServerVersion()?.name, 'toolrouter');
assert.ok(client.getInstructions()?.length > 0, 'the assistive prompt is the instructions');

const { tools } = await client.listTools();
const names = tools.map((t) => t.name);
assert.ok(names.includes('COMPOSIO_SEARCH_TOOLS'), names.join());
assert.ok(names.includes('ECHOER_CREATE_ITEM'), names.join());
assert.ok(names.every((n) => n.length <= 64));
const create = tools.find((t) => t.name === 'ECHOER_CREATE_ITEM');
assert.deepEqual(create.inputSchema.required, ['name']);
assert.equal(create.annotations?.idempotentHint, true);

const found = await client.callTool({
  name: 'COMPOSIO_SEARCH_TOOLS',
  arguments: { queries: [{ use_case: 'create an item', known_fields: 'name:lamp' }] },
});
assert.ok(!found.isError, JSON.stringify(found));
const slug = found.structuredContent.data.results[0].primary_tool_slugs[0];
assert.equal(slug, 'ECHOER_CREATE_ITEM');

const ran = await client.callTool({
  name: 'COMPOSIO_MULTI_EXECUTE_TOOL',
  arguments: { tools: [{ tool_slug: slug, arguments: { name: 'lamp' } }], sync_response_to_workbench: false },
});
assert.ok(!ran.isError, JSON.stringify(ran));
assert.deepEqual(ran.structuredContent.data.results[0].response.data, { id: 'item_1', echo: { name: 'lamp' } });

const direct = await client.callTool({ name: 'ECHOER_CREATE_ITEM', arguments: { name: 'desk' } });
assert.ok(!direct.isError, JSON.stringify(direct));
assert.deepEqual(JSON.parse(direct.content[0].text).data.echo, { name: 'desk' });

const bad = await client.callTool({ name: 'ECHOER_CREATE_ITEM', arguments: {} });
assert.equal(bad.isError, true);
assert.match(bad.structuredContent.error, /name/);

await client.ping();
await client.close();

// The URL alone grants nothing: without the session's header the server answers 401.
const anonymous = new Client({ name: 'toolrouter-e2e-anonymous', version: '0.0.0' });
await assert.rejects(anonymous.connect(new StreamableHTTPClientTransport(new URL(url))), (e) => {
  assert.match(String(e), /401/);
  return true;
});
console.log('typescript: list, search -> execute, direct call, error result and 401 without the key: ok');

// Approvals and change notifications, on a session of its own.
const base = url.split('/tool_router/')[0];
const rest = async (method, path, body) => {
  const res = await fetch(`${base}/api/v3.1/tool_router/session${path}`, {
    method,
    headers: { 'x-api-key': key, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(res.ok, `${method} ${path}: ${res.status}`);
  return res.json();
};
const created = await rest('POST', '', {
  user_id: 'e2e-mcp-typescript',
  toolkits: { enable: ['echoer'] },
  experimental: { permissions: { default: 'ask_every_call' } },
});
const asking = new Client({ name: 'toolrouter-e2e-approvals', version: '0.0.0' }, { capabilities: { elicitation: {} } });
const asked = [];
asking.setRequestHandler(ElicitRequestSchema, async (request) => {
  asked.push(request.params.message);
  return asked.length === 1 ? { action: 'accept', content: { decision: 'approve' } } : { action: 'decline' };
});
let onChanged;
const changed = new Promise((resolve) => {
  onChanged = resolve;
});
asking.setNotificationHandler(ToolListChangedNotificationSchema, () => onChanged());
await asking.connect(
  new StreamableHTTPClientTransport(new URL(created.mcp.url), { requestInit: { headers: { 'x-api-key': key } } }),
);
assert.equal(asking.getServerCapabilities()?.tools?.listChanged, true);

const approved = await asking.callTool({ name: 'ECHOER_CREATE_ITEM', arguments: { name: 'approved' } });
assert.ok(!approved.isError, JSON.stringify(approved));
assert.deepEqual(approved.structuredContent.data.echo, { name: 'approved' });
assert.match(asked[0], /ECHOER_CREATE_ITEM/);
const declined = await asking.callTool({ name: 'ECHOER_CREATE_ITEM', arguments: { name: 'declined' } });
assert.equal(declined.isError, true);
assert.match(declined.structuredContent.error, /declined/);
assert.equal(asked.length, 2);

assert.ok(!(await asking.listTools()).tools.some((t) => t.name === 'ECHOER_CREATE_ITEM'));
await rest('PATCH', `/${created.session_id}`, { preload: { tools: ['ECHOER_CREATE_ITEM'] } });
let timer;
await Promise.race([
  changed,
  new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('no tools/list_changed within 30 s')), 30_000);
  }),
]);
clearTimeout(timer);
assert.ok((await asking.listTools()).tools.some((t) => t.name === 'ECHOER_CREATE_ITEM'));
await asking.close();
await rest('DELETE', `/${created.session_id}`);
console.log('typescript: approval through elicitation (approve, decline) and tools/list_changed: ok');
