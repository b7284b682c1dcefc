"""The workbench driver: one persistent Python interpreter per sandbox, spoken to over JSON lines.

The host writes one JSON object per line on stdin and reads one per line on stdout. The driver
moves those two pipes to private descriptors at start-up, so code it runs cannot read requests
meant for it (fd 0 becomes /dev/null) and everything code writes to fd 1 and 2 -- `print`,
`os.system`, subprocesses -- lands in per-call capture files instead of the protocol stream.

Messages from the host:
  {"op": "init", "token", "bridge", "files", "tmp", "offload_dir", "egress"}
                                              -> {"op": "ready", "python"}
  {"op": "exec", "id", "code", "offload"}    run Python in the one globals dict
  {"op": "bash", "id", "command", "offload"}  run `bash -c` in the current directory
  {"op": "interrupt", "id"}                   SIGINT the main thread if call `id` is still running
`egress` is null, or {"socket", "port"}: the operator enabled network egress, and the driver
relays 127.0.0.1:port to the host's egress proxy on that unix socket (the sandbox's network
namespace has nothing else; HTTP_PROXY and friends in the environment name the relay).
Every exec/bash gets exactly one reply carrying its id. A broken driver is the host's problem to
detect (EOF), so the driver never tries to survive its own internal errors.
"""

# Start-up time is cold-start latency, so only C modules load here (no `json`, `ast`,
# `threading`, `signal`: they pull in `re`, `enum`, `functools`…); the rest loads on first use.
import _ast
import _queue
import _signal
import _thread
import os
import sys
import time

_PROTO_IN = os.dup(0)
_PROTO_OUT = os.dup(1)
_DIAG = os.dup(2)
_NULL = os.open(os.devnull, os.O_RDWR)
for _fd in (0, 1, 2):
    os.dup2(_NULL, _fd)
for _fd in (_PROTO_IN, _PROTO_OUT, _DIAG):
    os.set_inheritable(_fd, False)

_MAIN = _thread.get_ident()
_lock = _thread.allocate_lock()
_running = None  # id of the call the main thread is executing, guarded by _lock
_interrupted = False  # set when an interrupt for the running call was delivered
_in_user_code = False  # only then does SIGINT become KeyboardInterrupt

_cfg = {}
_globals = {"__name__": "__main__", "__builtins__": __builtins__}
_cell = 0
_sources = {}  # cell name -> source, handed to linecache for tracebacks
_CO_COROUTINE = 0x80

try:
    import _json

    class _JsonContext:
        strict = True
        object_hook = None
        object_pairs_hook = None
        parse_float = float
        parse_int = int

        @staticmethod
        def parse_constant(name):
            raise ValueError("%s is not valid JSON" % name)

    _scan = _json.make_scanner(_JsonContext())
    _encode = _json.make_encoder(None, repr, _json.encode_basestring, None, ":", ",", False, False, False)

    def _loads(text):
        return _scan(text, 0)[0]

    def _dumps(obj):
        return "".join(_encode(obj, 0))

except (ImportError, AttributeError):
    import json

    _loads = json.loads

    def _dumps(obj):
        return json.dumps(obj, ensure_ascii=False, default=repr, separators=(",", ":"), allow_nan=False)


def _send(obj):
    data = (_dumps(obj) + "\n").encode("utf-8", "replace")
    view = memoryview(data)
    while view:
        n = os.write(_PROTO_OUT, view)
        view = view[n:]


def _on_sigint(signum, frame):
    # Interrupts that arrive while the driver itself is working (before or after the user's
    # code) are dropped: they are late, and raising here would break the reply.
    if _in_user_code:
        raise KeyboardInterrupt


def _reader(queue):
    global _interrupted
    try:
        stream = os.fdopen(_PROTO_IN, "rb", buffering=1 << 16)
        for line in stream:
            msg = _loads(line.decode("utf-8"))
            if msg.get("op") == "interrupt":
                with _lock:
                    if _running is not None and _running == msg.get("id"):
                        _interrupted = True
                        _signal.pthread_kill(_MAIN, _signal.SIGINT)
            else:
                queue.put(msg)
    finally:
        # EOF or garbage on the request pipe: the host is gone or broken; stop.
        queue.put(None)


def _tmpfile():
    return os.open(_cfg["tmp"], os.O_TMPFILE | os.O_RDWR, 0o600)


def _offload_path(kind, ext):
    base = os.path.join(_cfg["files"], _cfg["offload_dir"])
    os.makedirs(base, exist_ok=True)
    stamp = "%d_%d" % (int(time.time() * 1000), _cell)
    return os.path.join(base, "%s_%s.%s" % (kind, stamp, ext))


def _take(fd, kind, limit):
    """Text of a capture file (at most `limit` bytes) and the path holding all of it, if longer."""
    size = os.fstat(fd).st_size
    os.lseek(fd, 0, os.SEEK_SET)
    head = os.read(fd, min(size, limit)) if size else b""
    path = None
    if size > limit:
        try:
            path = _offload_path(kind, "txt")
            out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                os.lseek(fd, 0, os.SEEK_SET)
                while True:
                    chunk = os.read(fd, 1 << 20)
                    if not chunk:
                        break
                    os.write(out, chunk)
            finally:
                os.close(out)
        except OSError as e:
            path = None
            head += ("\n[output truncated; saving the rest failed: %s]" % e).encode()
    os.close(fd)
    return head.decode("utf-8", "ignore"), path


def _offload_text(text, kind, limit):
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return text, None
    try:
        path = _offload_path(kind, "txt")
        with open(path, "wb") as f:
            f.write(data)
    except OSError as e:
        return data[:limit].decode("utf-8", "ignore") + "\n[result truncated; saving it failed: %s]" % e, None
    return data[:limit].decode("utf-8", "ignore"), path


def _count_lines(fd):
    os.lseek(fd, 0, os.SEEK_SET)
    n, last = 0, b"\n"
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        n += chunk.count(b"\n")
        last = chunk[-1:]
    return n + (0 if last == b"\n" else 1)


class _Capture:
    """fd-level capture of stdout/stderr for one call."""

    def __enter__(self):
        for stream in (sys.stdout, sys.stderr):
            if stream is not None and not stream.closed:
                stream.flush()
        if sys.stdout is None or sys.stdout.closed:
            sys.stdout = sys.__stdout__
        if sys.stderr is None or sys.stderr.closed:
            sys.stderr = sys.__stderr__
        self.out, self.err = _tmpfile(), _tmpfile()
        os.dup2(self.out, 1)
        os.dup2(self.err, 2)
        return self

    def __exit__(self, *exc):
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os.dup2(_NULL, 1)
        os.dup2(_NULL, 2)
        return False


def _register_sources():
    """Gives linecache the cells' source, so tracebacks show their lines."""
    linecache = sys.modules.get("linecache")
    if linecache is not None:
        for name, code in _sources.items():
            linecache.cache[name] = (len(code), None, code.splitlines(True), name)


def _format_error(exc):
    import traceback

    _register_sources()
    tb = exc.__traceback__
    # Drop the driver's own frames so the traceback starts in the user's cell.
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    if isinstance(exc, SyntaxError):
        return "".join(traceback.format_exception_only(type(exc), exc))
    return "".join(traceback.format_exception(type(exc), exc, tb))


def _run_cell(code):
    """Runs `code` in the persistent globals; returns repr() of a trailing expression, or ""."""
    global _cell
    _cell += 1
    name = "<cell-%d>" % _cell
    _sources[name] = code
    linecache = sys.modules.get("linecache")
    if linecache is not None:
        linecache.cache[name] = (len(code), None, code.splitlines(True), name)
    flags = _ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    tree = compile(code, name, "exec", _ast.PyCF_ONLY_AST | flags)
    last = None
    if tree.body and isinstance(tree.body[-1], _ast.Expr):
        last = _ast.Expression(tree.body.pop().value)
    _evaluate(compile(tree, name, "exec", flags))
    if last is None:
        return ""
    value = _evaluate(compile(last, name, "eval", flags))
    if value is None:
        return ""
    _globals["_"] = value
    return repr(value)


_loop = None


def _evaluate(code):
    """Top-level `await` compiles to a coroutine; it runs on one persistent event loop."""
    global _loop
    value = eval(code, _globals)
    if not code.co_flags & _CO_COROUTINE:
        return value
    import asyncio

    if _loop is None:
        _loop = asyncio.new_event_loop()
    return _loop.run_until_complete(value)


def _begin(call_id):
    global _running, _interrupted
    _signal.signal(_signal.SIGINT, _on_sigint)
    with _lock:
        _running, _interrupted = call_id, False


def _end():
    global _running
    with _lock:
        _running = None
        return _interrupted


def _exec(msg):
    global _in_user_code
    limit = msg["offload"]
    result, error = "", None
    _begin(msg["id"])
    with _Capture() as cap:
        try:
            _in_user_code = True
            result = _run_cell(msg["code"])
            _in_user_code = False
        except BaseException as e:  # the user's exception is the call's result
            _in_user_code = False
            error = _format_error(e)
    interrupted = _end()
    stdout, stdout_file = _take(cap.out, "stdout", limit)
    stderr, stderr_file = _take(cap.err, "stderr", limit)
    result, result_file = _offload_text(result, "result", limit)
    _send({
        "id": msg["id"], "results": result, "stdout": stdout, "stderr": stderr, "error": error,
        "results_file": result_file, "stdout_file": stdout_file, "stderr_file": stderr_file,
        "interrupted": interrupted,
    })


def _bash(msg):
    global _in_user_code
    import subprocess

    limit = msg["offload"]
    out, err = _tmpfile(), _tmpfile()
    code, error = None, None
    _begin(msg["id"])
    try:
        proc = subprocess.Popen(
            ["/bin/bash", "-c", msg["command"]], stdin=_NULL, stdout=out, stderr=err,
            start_new_session=True, close_fds=True,
        )
        try:
            _in_user_code = True
            code = proc.wait()
            _in_user_code = False
        except KeyboardInterrupt:
            _in_user_code = False
            # The command runs in its own session: take its whole process group down.
            try:
                os.killpg(proc.pid, _signal.SIGKILL)
            except OSError:
                pass
            proc.wait()
            error = "KeyboardInterrupt: the command was interrupted"
    except OSError as e:
        _in_user_code = False
        error = "could not run bash: %s" % e
    interrupted = _end()
    stdout_lines, stderr_lines = _count_lines(out), _count_lines(err)
    stdout, stdout_file = _take(out, "bash_stdout", limit)
    stderr, stderr_file = _take(err, "bash_stderr", limit)
    _send({
        "id": msg["id"], "stdout": stdout, "stderr": stderr, "stdout_lines": stdout_lines,
        "stderr_lines": stderr_lines, "exit_code": code, "error": error,
        "stdout_file": stdout_file, "stderr_file": stderr_file, "interrupted": interrupted,
    })


def _install_helpers(token, bridge):
    """`run_composio_tool` and `proxy_execute`, calling the host over the bridge socket.

    The capability token lives only in this closure; it is never in the environment or argv.
    """

    def call(request):
        import socket

        if not bridge:
            return None, "tool calls are not available in this workbench"
        request["token"] = token
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(bridge)
            s.sendall((_dumps(request) + "\n").encode())
            s.shutdown(socket.SHUT_WR)
            chunks = []
            while True:
                chunk = s.recv(1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
        reply = _loads(b"".join(chunks).decode("utf-8") or "{}")
        return reply.get("data"), reply.get("error")

    def run_composio_tool(tool_slug, arguments=None):
        """Runs a tool of this session; returns (data, error), error None on success."""
        return call({"kind": "tool", "slug": str(tool_slug), "arguments": arguments or {}})

    def proxy_execute(method, endpoint, toolkit, query_params=None, body=None, headers=None):
        """Calls a toolkit's API with the session's connected account; returns (data, error)."""
        params = [{"name": str(k), "value": str(v), "type": "query"} for k, v in (query_params or {}).items()]
        params += [{"name": str(k), "value": str(v), "type": "header"} for k, v in (headers or {}).items()]
        return call({
            "kind": "proxy", "toolkit": str(toolkit), "endpoint": str(endpoint),
            "method": str(method).upper(), "body": body, "parameters": params,
        })

    _globals["run_composio_tool"] = run_composio_tool
    _globals["proxy_execute"] = proxy_execute


def _pump(src, dst):
    import _socket

    try:
        while True:
            data = src.recv(1 << 16)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(_socket.SHUT_WR)
    except OSError:
        pass


def _egress_relay(conn, path):
    """One client connection, relayed to the egress proxy: a thread per direction."""
    import _socket

    up = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    # Blocking whatever `socket.setdefaulttimeout` the code in the sandbox has set.
    up.settimeout(None)
    conn.settimeout(None)
    done = _thread.allocate_lock()
    done.acquire()

    def back():
        try:
            _pump(up, conn)
            # The proxy ends each exchange; wake the other direction if the client lingers.
            try:
                conn.shutdown(_socket.SHUT_RDWR)
            except OSError:
                pass
        finally:
            done.release()

    try:
        up.connect(path)
        _thread.start_new_thread(back, ())
    except (OSError, RuntimeError):
        conn.close()
        up.close()
        return
    _pump(conn, up)
    done.acquire()
    conn.close()
    up.close()


def _egress_accept(listener, path):
    import _socket

    while True:
        try:
            fd, _ = listener._accept()
        except OSError:
            time.sleep(0.1)  # out of descriptors: let connections finish
            continue
        conn = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM, 0, fd)
        try:
            _thread.start_new_thread(_egress_relay, (conn, path))
        except RuntimeError:  # out of threads (pids limit)
            conn.close()


def _start_egress(egress):
    """Listens on 127.0.0.1:port (bound before `ready`, so the first cell can use it)."""
    import _socket

    listener = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    listener.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", egress["port"]))
    listener.listen(64)
    _thread.start_new_thread(_egress_accept, (listener, egress["socket"]))


def main():
    requests = _queue.SimpleQueue()
    _thread.start_new_thread(_reader, (requests,))
    first = requests.get()
    if first is None or first.get("op") != "init":
        os._exit(0)
    token = first.pop("token", None)
    _cfg.update(first)
    _install_helpers(token, first.get("bridge"))
    if first.get("egress"):
        _start_egress(first["egress"])
    del token, first
    os.chdir(_cfg["files"])
    _signal.signal(_signal.SIGINT, _on_sigint)
    _send({"op": "ready", "python": sys.version.split()[0]})
    while True:
        msg = requests.get()
        if msg is None:
            os._exit(0)
        if msg["op"] == "exec":
            _exec(msg)
        elif msg["op"] == "bash":
            _bash(msg)


if __name__ == "__main__":
    try:
        main()
    except BaseException:
        import traceback

        os.write(_DIAG, traceback.format_exc().encode())
        os._exit(70)
