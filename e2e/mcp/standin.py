"""A stand-in third-party API for the MCP end-to-end suite: `POST /items` answers
`{"id": "item_1", "echo": <body>}`. Prints its port on the first line of stdout, then serves
on 127.0.0.1 until killed."""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if self.path != "/items":
            self.send_response(404)
            self.end_headers()
            return
        out = json.dumps({"id": "item_1", "echo": body}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
sys.stdout.close()
server.serve_forever()
