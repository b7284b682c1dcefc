// The conformance suite has no option for request headers, so it talks to this loopback
// forwarder, which adds the session's `x-api-key` (as any configured MCP client would) and
// passes everything else through unchanged, `Host` included, so the DNS-rebinding scenario
// reaches toolrouter's own check.
//
// Usage: node proxy.mjs <toolrouter origin> <api key>   (prints its port, then serves)
import http from 'node:http';

const [target, key] = process.argv.slice(2);
const upstream = new URL(target);
const server = http.createServer((req, res) => {
  const headers = { ...req.headers, 'x-api-key': key };
  const out = http.request(
    { hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers },
    (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
    },
  );
  out.on('error', (e) => {
    res.writeHead(502);
    res.end(String(e));
  });
  req.pipe(out);
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
