#!/usr/bin/env python3
"""Runs a command against a real toolrouter process, then tears everything down.

    python3 e2e/harness/harness.py --binary target/debug/toolrouter -- pytest ...

Shared by the official-SDK suites (e2e/python, e2e/typescript), so both see the same server
set-up: `toolrouter serve` on SQLite in a fresh temporary data directory, on a free loopback
port, with every toolkit the tests execute (GitHub, Gmail, Slack) sent to the local stand-in
(standin.py) through `--toolkit-base-url`. The command runs once /readyz answers 200, with:

    COMPOSIO_BASE_URL   http://127.0.0.1:<port>   (the SDKs' base URL; also --public-url, so
                                                    session mcp.url has the same origin, §7;
                                                    https://<IP>:<port> with --public-host)
    COMPOSIO_API_KEY    the first API key, read from <data-dir>/api-key
    E2E_STANDIN_URL     the stand-in, for GET /__standin/requests
    E2E_DATA_DIR        the server's data directory
    E2E_PUBLIC_URL      the server's public URL (the same as the base URL)
    E2E_TOOLROUTER_BIN, E2E_SERVE_ARGS   the binary and its `serve` arguments (JSON, without
                        --listen/--public-url), for a test that starts a second process on the
                        same database

The exit status is the command's. On failure the tail of the server log is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from standin import StandIn  # noqa: E402

# Where the seed examples send users back after connecting (allowlisted, docs/auth.md).
CALLBACK_URLS = ["https://myapp.com/callback", "https://example.com/callback"]
STANDIN_TOOLKITS = ["github", "gmail", "slack"]
# Operator toolkits added so the catalog has more than 20 toolkits: the seeds' "returns the
# first 20 toolkits by default" is then observable. Never executed.
EXTRA_TOOLKITS = 5


def write_extra_toolkits(directory: str, standin_url: str) -> None:
    os.makedirs(directory)
    for n in range(1, EXTRA_TOOLKITS + 1):
        slug = f"e2epad{n}"
        definition = {
            "slug": slug, "name": f"E2E Pad {n}",
            "description": f"Scratch pad number {n} of the end-to-end suites.",
            "base_url": f"{standin_url}/{slug}",
            "auth_schemes": [{"type": "NO_AUTH"}],
            "tools": [{"slug": f"{slug.upper()}_PING", "name": "Ping",
                       "description": f"Check that scratch pad {n} answers; returns its status.",
                       "input": {"type": "object", "properties": {}},
                       "http": {"method": "GET", "path": "/ping"}}],
        }
        with open(os.path.join(directory, f"{slug}.json"), "w") as f:
            json.dump(definition, f)


def make_tls(directory: str, host: str) -> tuple[str, str, str]:
    """A throw-away CA and a certificate for `host` (an IP) signed by it: (ca, cert, key)."""
    ca_key, ca, key, csr, cert = (os.path.join(directory, n) for n in
                                  ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem"))
    ext = os.path.join(directory, "server.ext")
    with open(ext, "w") as f:
        f.write(f"subjectAltName=IP:{host}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for cmd in (
        ["openssl", "req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "2",
         "-subj", "/CN=toolrouter e2e CA", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign"],
        ["openssl", "req", *ec, "-keyout", key, "-out", csr, "-subj", f"/CN={host}"],
        ["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
         "-out", cert, "-days", "2", "-extfile", ext],
    ):
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return ca, cert, key


def trust_env(directory: str, ca: str) -> dict:
    """Environment making Python (httpx, requests, urllib) and Node trust `ca` as well."""
    bundle = os.path.join(directory, "bundle.pem")
    system = os.environ.get("SSL_CERT_FILE") or ssl.get_default_verify_paths().cafile
    with open(bundle, "wb") as out:
        if system and os.path.exists(system):
            with open(system, "rb") as f:
                out.write(f.read() + b"\n")
        with open(ca, "rb") as f:
            out.write(f.read())
    return {"SSL_CERT_FILE": bundle, "REQUESTS_CA_BUNDLE": bundle, "NODE_EXTRA_CA_CERTS": ca}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base: str, proc: subprocess.Popen, deadline: float, ca: str | None) -> None:
    context = ssl.create_default_context(cafile=ca) if ca else None
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"toolrouter exited with status {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2, context=context) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("toolrouter did not answer /readyz with 200 within the time limit")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", required=True, help="path to the toolrouter binary")
    ap.add_argument("--public-host", metavar="IP",
                    help="serve HTTPS on all interfaces, reached at https://IP:<port> (a certificate "
                         "from a throw-away CA the SDKs are told to trust): files-mount tests, run "
                         "in a network namespace, see public_netns")
    ap.add_argument("command", nargs=argparse.REMAINDER, help="-- command to run")
    args = ap.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        ap.error("give the command to run after --")

    work = tempfile.mkdtemp(prefix="toolrouter-e2e-")
    # mkdtemp makes it 0700; the workbench's sandboxes run as other uids and must traverse it
    # to their files directory (the server creates that one, with its own permissions).
    os.chmod(work, 0o755)
    data = os.path.join(work, "data")
    log_path = os.path.join(work, "server.log")
    standin = StandIn().start()
    port = free_port()
    toolkits = os.path.join(work, "toolkits")
    write_extra_toolkits(toolkits, standin.url)
    ca, extra_env = None, {}
    if args.public_host:
        # The SDKs send credentials over plain HTTP only to loopback, and fetch presigned URLs
        # only from public hosts: so HTTPS on the public address, for both.
        ca, cert, key = make_tls(work, args.public_host)
        extra_env = trust_env(work, ca)
        base = f"https://{args.public_host}:{port}"
        argv = [args.binary, "serve", "--listen", f"0.0.0.0:{port}",
                "--tls-cert", cert, "--tls-key", key]
    else:
        base = f"http://127.0.0.1:{port}"
        argv = [args.binary, "serve", "--listen", f"127.0.0.1:{port}"]
    public = base
    shared = ["--data-dir", data, "--outbound-allow", "127.0.0.1", "--toolkits-dir", toolkits]
    for slug in STANDIN_TOOLKITS:
        shared += ["--toolkit-base-url", f"{slug}={standin.url}/{slug}"]
    for url in CALLBACK_URLS:
        shared += ["--callback-url", url]
    argv += ["--public-url", public, *shared]
    # The server reads only what we pass: no TOOLROUTER_* from the caller's shell.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOOLROUTER_")}
    log = open(log_path, "wb")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                            env={**env, "TOOLROUTER_LOG": "info"})
    status = 1
    try:
        wait_ready(base, proc, time.time() + 60, ca)
        with open(os.path.join(data, "api-key")) as f:
            api_key = f.read().strip()
        child_env = {**env, **extra_env}
        child_env.update({
            "COMPOSIO_BASE_URL": base,
            "COMPOSIO_API_KEY": api_key,
            "E2E_STANDIN_URL": standin.url,
            "E2E_DATA_DIR": data,
            "E2E_PUBLIC_URL": public,
            "E2E_TOOLROUTER_BIN": os.path.abspath(args.binary),
            "E2E_SERVE_ARGS": json.dumps(shared),
            # No telemetry from the TypeScript SDK (CONTRACT.md §9); the tests also pass
            # allow_tracking=False / allowTracking: false and disableVersionCheck: true.
            "TELEMETRY_DISABLED": "true",
        })
        status = subprocess.call(command, env=child_env)
    except Exception as e:  # noqa: BLE001 - reported, then the server log
        print(f"harness: {e}", file=sys.stderr)
        status = 1
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        standin.stop()
        log.close()
        if status != 0:
            with open(log_path, "rb") as f:
                tail = f.read().decode("utf-8", "replace").splitlines()[-25:]
            print("harness: last lines of the toolrouter log:", file=sys.stderr)
            print("\n".join(tail), file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
