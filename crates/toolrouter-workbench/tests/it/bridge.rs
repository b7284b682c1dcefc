//! Tools from code: `run_composio_tool` and `proxy_execute` reach the session layer's bridge,
//! with its permissions, and nothing else can use the socket.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::json;
use toolrouter_core::SessionId;
use toolrouter_workbench::{
    ExecOptions, ParameterLocation, ProxyParameter, ProxyRequest, SandboxSpec, ToolBridge,
    ToolCall, ToolReply,
};

use crate::harness::{Harness, session};

#[derive(Debug, Default)]
struct Recorder {
    tools: Mutex<Vec<(SessionId, ToolCall)>>,
    proxied: Mutex<Vec<(SessionId, ProxyRequest)>>,
}

#[async_trait]
impl ToolBridge for Recorder {
    async fn run_tool(&self, session: &SessionId, call: ToolCall) -> ToolReply {
        self.tools
            .lock()
            .unwrap()
            .push((session.clone(), call.clone()));
        if call.slug == "BROKEN_TOOL" {
            return ToolReply::error("the tool failed");
        }
        ToolReply::ok(json!({ "slug": call.slug, "echo": call.arguments }))
    }

    async fn proxy_execute(&self, session: &SessionId, request: ProxyRequest) -> ToolReply {
        self.proxied
            .lock()
            .unwrap()
            .push((session.clone(), request));
        ToolReply::ok(json!({ "status": 200 }))
    }
}

async fn harness() -> (Harness, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let h = Harness::with_bridge(|_| {}, recorder.clone()).await;
    (h, recorder)
}

#[tokio::test]
async fn run_composio_tool_reaches_the_bridge() {
    let (h, recorder) = harness().await;
    let s = session();
    let out = h.eval(&s, "data, error = run_composio_tool('GITHUB_GET_REPO', {'owner': 'octo', 'n': [1, 2]})\n(data, error)").await;
    assert_eq!(
        out,
        "({'echo': {'n': [1, 2], 'owner': 'octo'}, 'slug': 'GITHUB_GET_REPO'}, None)"
    );
    assert_eq!(
        h.eval(&s, "run_composio_tool('BROKEN_TOOL', {})").await,
        "(None, 'the tool failed')"
    );
    let tools = recorder.tools.lock().unwrap().clone();
    assert_eq!(tools.len(), 2);
    assert_eq!(tools[0].0, s);
    assert_eq!(
        tools[0].1,
        ToolCall {
            slug: "GITHUB_GET_REPO".into(),
            arguments: json!({"owner": "octo", "n": [1, 2]})
        }
    );
    h.wb.shutdown().await;
}

#[tokio::test]
async fn proxy_execute_reaches_the_bridge() {
    let (h, recorder) = harness().await;
    let s = session();
    let out = h
        .eval(&s, "proxy_execute('post', '/repos/o/r/issues', 'github', query_params={'page': 2}, body={'title': 't'}, headers={'X-Trace': 'abc'})")
        .await;
    assert_eq!(out, "({'status': 200}, None)");
    let proxied = recorder.proxied.lock().unwrap().clone();
    assert_eq!(
        proxied,
        [(
            s.clone(),
            ProxyRequest {
                toolkit: "github".into(),
                endpoint: "/repos/o/r/issues".into(),
                method: "POST".into(),
                body: Some(json!({"title": "t"})),
                parameters: vec![
                    ProxyParameter {
                        name: "page".into(),
                        value: "2".into(),
                        location: ParameterLocation::Query
                    },
                    ProxyParameter {
                        name: "X-Trace".into(),
                        value: "abc".into(),
                        location: ParameterLocation::Header
                    },
                ],
            }
        )]
    );
    h.wb.shutdown().await;
}

#[tokio::test]
async fn calls_from_a_thread_pool_run_concurrently() {
    let (h, recorder) = harness().await;
    let s = session();
    let code = "from concurrent.futures import ThreadPoolExecutor\nwith ThreadPoolExecutor(8) as pool:\n    \
                results = list(pool.map(lambda i: run_composio_tool('T', {'i': i})[0]['echo']['i'], range(32)))\nresults == list(range(32))";
    assert_eq!(h.eval(&s, code).await, "True");
    assert_eq!(recorder.tools.lock().unwrap().len(), 32);
    h.wb.shutdown().await;
}

#[tokio::test]
async fn disabled_tool_and_proxy_execution_are_refused() {
    let (h, recorder) = harness().await;
    let s = session();
    let spec = SandboxSpec {
        tool_execution: false,
        proxy_execution: false,
        ..SandboxSpec::default()
    };
    let out = h
        .py_with(
            &s,
            spec,
            "(run_composio_tool('T', {}), proxy_execute('GET', '/', 'github'))",
            ExecOptions::default(),
        )
        .await;
    assert!(
        out.results.contains("enable_tool_execution is false"),
        "{}",
        out.results
    );
    assert!(
        out.results.contains("enable_proxy_execution is false"),
        "{}",
        out.results
    );
    assert!(
        recorder.tools.lock().unwrap().is_empty() && recorder.proxied.lock().unwrap().is_empty()
    );
    // The flags follow the session's config on the next call, without a restart.
    let out = h
        .py_with(
            &s,
            SandboxSpec::default(),
            "run_composio_tool('T', {})[1] is None",
            ExecOptions::default(),
        )
        .await;
    assert_eq!((out.results.as_str(), out.restarted), ("True", None));
    h.wb.shutdown().await;
}

#[tokio::test]
async fn the_socket_wants_the_capability_token_which_code_cannot_find_lying_around() {
    let (h, recorder) = harness().await;
    let s = session();
    let code = "import json, socket, os, re\ndef raw(req):\n    with socket.socket(socket.AF_UNIX) as c:\n        \
                c.connect('/run/workbench/bridge.sock')\n        c.sendall(json.dumps(req).encode())\n        \
                c.shutdown(socket.SHUT_WR)\n        return json.loads(c.recv(65536))['error']\n\
                forged = [raw({'kind': 'tool', 'slug': 'T'}), raw({'kind': 'tool', 'slug': 'T', 'token': 'a' * 64})]\n\
                places = [open('/proc/self/environ', 'rb').read(), open('/proc/1/environ', 'rb').read(), \
                open('/proc/self/cmdline', 'rb').read(), open('/proc/1/cmdline', 'rb').read(), repr(dict(os.environ)).encode()]\n\
                (forged, [bool(re.search(rb'[0-9a-f]{64}', p)) for p in places])";
    let out = h.eval(&s, code).await;
    assert_eq!(
        out,
        "(['refused: bad capability token', 'refused: bad capability token'], [False, False, False, False, False])"
    );
    assert!(recorder.tools.lock().unwrap().is_empty());
    h.wb.shutdown().await;
}
