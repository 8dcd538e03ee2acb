//! `pods/<name>/exec` over WebSocket (`v5.channel.k8s.io`,
//! `v4.channel.k8s.io`): binary messages whose first byte is the stream
//! (0 stdin, 1 stdout, 2 stderr (unused: output goes to stdout), 3 status, 4 resize, 255 close in v5).
//! The session ends with a `metav1.Status` on stream 3 and a Close frame
//! with code 1000 (kubectl reports `close 1005 (no status)` without it).
//!
//! Checks before the upgrade are the apiserver's (`streamLocation`: which
//! container, is the pod on a node) and the kubelet's (is the container
//! running: `container not found ("c")`); a failed check answers a Status,
//! which kubectl prints after its SPDY fallback fails the same way.

use super::auth;
use super::kubelet_api::{ExecCall, ExecFailure, KubeletApi};
use super::query::Query;
use super::request_info::RequestInfo;
use super::{ApiServer, header, response};
use crate::api::status::{GroupResource, Status};
use axum::body::{Body, Bytes};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, Response, Uri};
use serde_json::{Value, json};
use std::sync::Arc;

const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STATUS: u8 = 3;
const CLOSE: u8 = 255;

/// The exec request's query.
#[derive(Debug, Clone)]
struct ExecParams {
    namespace: String,
    pod: String,
    container: String,
    command: Vec<String>,
    stdin: bool,
    tty: bool,
}

use super::logs::names;

/// The apiserver's container choice for exec/attach (`streamLocation`).
pub fn choose_container(pod: &Value, pod_name: &str, requested: &str) -> Result<String, Status> {
    let containers = names(pod, "/spec/containers");
    if requested.is_empty() {
        return match containers.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(Status::bad_request(format!(
                "a container name must be specified for pod {pod_name}"
            ))),
            _ => {
                let mut msg = format!(
                    "a container name must be specified for pod {pod_name}, choose one of: [{}]",
                    containers.join(" ")
                );
                let init = names(pod, "/spec/initContainers");
                if !init.is_empty() {
                    msg.push_str(&format!(
                        " or one of the init containers: [{}]",
                        init.join(" ")
                    ));
                }
                Err(Status::bad_request(msg))
            }
        };
    }
    let known = [
        "/spec/containers",
        "/spec/initContainers",
        "/spec/ephemeralContainers",
    ]
    .iter()
    .any(|p| names(pod, p).iter().any(|n| n == requested));
    if known {
        Ok(requested.to_string())
    } else {
        Err(Status::bad_request(format!(
            "container {requested} is not valid for pod {pod_name}"
        )))
    }
}

fn is_running(pod: &Value, container: &str) -> bool {
    ["/status/containerStatuses", "/status/initContainerStatuses"]
        .iter()
        .filter_map(|p| pod.pointer(p).and_then(Value::as_array))
        .flatten()
        .find(|c| c.get("name").and_then(Value::as_str) == Some(container))
        .is_some_and(|c| c.pointer("/state/running").is_some())
}

/// Runs the checks an exec passes before its stream opens.
fn prepare(
    server: &Arc<ApiServer>,
    req: &RequestInfo,
    query: &Query,
) -> Result<(ExecParams, Arc<dyn KubeletApi>), Status> {
    let gr = GroupResource {
        group: "",
        resource: "pods",
    };
    let store = &server.registry.store;
    let pods = crate::store::ResKey {
        group: "",
        resource: "pods",
    };
    let pod = store
        .get(pods, &req.namespace, &req.name)
        .ok_or_else(|| Status::not_found(gr, &req.name))?;
    let container = choose_container(&pod, &req.name, query.get("container").unwrap_or(""))?;
    let bound = pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    if !bound {
        return Err(Status::bad_request(format!(
            "pod {} does not have a host assigned",
            req.name
        )));
    }
    let kubelet = server
        .kubelet
        .get()
        .cloned()
        .ok_or_else(|| Status::bad_request(format!("container not found ({container:?})")))?;
    kubelet.refresh(&req.namespace, &req.name);
    let pod = store.get(pods, &req.namespace, &req.name).unwrap_or(pod);
    if !is_running(&pod, &container) {
        // The kubelet answers in plain text, which kubectl prints as
        // `error: unable to upgrade connection: container not found ("c")`.
        return Err(Status {
            code: 404,
            reason: "",
            message: format!("container not found ({container:?})"),
            details: None,
        });
    }
    let command: Vec<String> = query
        .all("command")
        .into_iter()
        .map(str::to_string)
        .collect();
    if command.is_empty() {
        return Err(Status::bad_request("you must specify at least 1 command"));
    }
    Ok((
        ExecParams {
            namespace: req.namespace.clone(),
            pod: req.name.clone(),
            container,
            command,
            stdin: query.flag("stdin"),
            tty: query.flag("tty"),
        },
        kubelet,
    ))
}

/// A non-WebSocket request to `pods/exec` (kubectl's SPDY fallback):
/// the same checks, then "Upgrade request required".
pub fn not_upgraded(server: &Arc<ApiServer>, req: &RequestInfo, query: &Query) -> Response<Body> {
    match prepare(server, req, query) {
        Err(s) => refusal(&s),
        Ok(_) => response::status(&Status::bad_request("Upgrade request required")),
    }
}

/// A WebSocket upgrade request: authenticates, checks, and runs the session.
pub fn upgrade(
    server: &Arc<ApiServer>,
    ws: WebSocketUpgrade,
    uri: &Uri,
    headers: &HeaderMap,
    client_certs: &[Vec<u8>],
) -> Response<Body> {
    let Some(requestor) =
        server.authenticate_request(header(headers, "authorization").as_deref(), client_certs)
    else {
        return response::status(&Status::unauthorized());
    };
    let path = uri.path();
    if auth::is_public(path) {
        return response::status(&Status::bad_request("Upgrade request required"));
    }
    let req = RequestInfo::parse("GET", path, false);
    // A WebSocket exec/attach is a GET, but needs `create` on the
    // subresource (AuthorizePodWebsocketUpgradeCreatePermission).
    let mut attrs = super::authz::attributes_of(&req);
    if req.is_resource {
        attrs.verb = "create".into();
    }
    if let Err(denied) = server.authorize(&requestor, headers, &attrs) {
        return response::status(&denied);
    }
    let query = Query::parse(uri.query());
    if req.resource != "pods" || !matches!(req.subresource.as_str(), "exec" | "attach") {
        return response::status(&Status::bad_request("Upgrade request required"));
    }
    let (params, kubelet) = match prepare(server, &req, &query) {
        Ok(p) => p,
        Err(s) => return refusal(&s),
    };
    ws.protocols(["v5.channel.k8s.io", "v4.channel.k8s.io"])
        .on_upgrade(move |socket| session(socket, kubelet, params))
        .map(Body::new)
}

/// A refused stream: a Status, or the kubelet's plain-text error.
fn refusal(s: &Status) -> Response<Body> {
    if s.reason.is_empty() {
        response::text(s.code, format!("{}\n", s.message))
    } else {
        response::status(s)
    }
}

fn frame(channel: u8, data: &[u8]) -> Message {
    let mut v = Vec::with_capacity(data.len() + 1);
    v.push(channel);
    v.extend_from_slice(data);
    Message::Binary(Bytes::from(v))
}

/// The Status kubelet's streaming server sends for an exit code.
pub fn exit_status(command: &[String], code: i32) -> Value {
    if code == 0 {
        return json!({"metadata": {}, "status": "Success"});
    }
    json!({
        "metadata": {},
        "status": "Failure",
        "message": format!(
            "command terminated with non-zero exit code: error executing command [{}], exit code {code}",
            command.join(" ")
        ),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]},
    })
}

fn failure_status(f: &ExecFailure, container: &str) -> Value {
    let message = match f {
        ExecFailure::NotRunning => format!("container not found ({container:?})"),
        ExecFailure::Start(m) => format!("error executing command in container: {m}"),
    };
    json!({
        "metadata": {},
        "status": "Failure",
        "message": format!("Internal error occurred: {message}"),
        "reason": "InternalError",
        "details": {"causes": [{"message": message}]},
        "code": 500,
    })
}

async fn finish(socket: &mut WebSocket, status: &Value) {
    let body = serde_json::to_vec(status).unwrap_or_default();
    let _ = socket.send(frame(STATUS, &body)).await;
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code: 1000,
            reason: "".into(),
        })))
        .await;
}

/// Reads stdin until its close signal (v5 `[255, 0]`) or the socket closes.
async fn read_stdin(socket: &mut WebSocket) -> String {
    let mut buf = Vec::new();
    while let Some(Ok(msg)) = socket.recv().await {
        match msg {
            Message::Binary(data) => match data.first() {
                Some(&STDIN) => buf.extend_from_slice(&data[1..]),
                Some(&CLOSE) if data.get(1) == Some(&STDIN) => break,
                _ => {}
            },
            Message::Close(_) => break,
            _ => {}
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

fn tty_text(s: &str) -> String {
    s.replace('\n', "\r\n")
}

fn is_shell(command: &[String]) -> bool {
    command.len() == 1
        && matches!(
            command[0].rsplit('/').next().unwrap_or(""),
            "sh" | "ash" | "bash" | "dash"
        )
}

/// How long after the upgrade the session's first message waits, as a
/// container runtime takes a while to start the exec'd process. kubectl
/// (client-go's `wsStreamExecutor`) starts reading the socket before it has
/// created its stdout, stderr and error streams, and drops a message for a
/// stream it has not created yet ("Unknown stream id 1, discarding
/// message"); a session that answered and closed at once could lose its
/// whole output and status ("error: closed all streams") when kubectl was
/// slow to get there, as on a loaded machine. A real node's exec takes
/// longer than this; this is transport pacing, not the simulated clock.
const EXEC_START: std::time::Duration = std::time::Duration::from_millis(50);

async fn session(mut socket: WebSocket, kubelet: Arc<dyn KubeletApi>, p: ExecParams) {
    tokio::time::sleep(EXEC_START).await;
    if p.tty && p.stdin && is_shell(&p.command) {
        return interactive(socket, kubelet, p).await;
    }
    let stdin = if p.stdin {
        Some(read_stdin(&mut socket).await)
    } else {
        None
    };
    let call = ExecCall {
        namespace: &p.namespace,
        pod: &p.pod,
        container: &p.container,
        command: &p.command,
        stdin: stdin.as_deref(),
        tty: p.tty,
    };
    let status = match kubelet.exec(&call) {
        Ok(r) => {
            let out = if p.tty { tty_text(&r.output) } else { r.output };
            if !out.is_empty() {
                let _ = socket.send(frame(STDOUT, out.as_bytes())).await;
            }
            exit_status(&p.command, r.code)
        }
        Err(f) => failure_status(&f, &p.container),
    };
    finish(&mut socket, &status).await;
}

/// A shell on a terminal: echoes what is typed, runs each line, prompts.
/// (Each line runs on its own: variables do not carry over.)
async fn interactive(mut socket: WebSocket, kubelet: Arc<dyn KubeletApi>, p: ExecParams) {
    const PROMPT: &[u8] = b"/ # ";
    let _ = socket.send(frame(STDOUT, PROMPT)).await;
    let mut line: Vec<u8> = Vec::new();
    let mut code = 0;
    'session: while let Some(Ok(msg)) = socket.recv().await {
        let data = match msg {
            Message::Binary(d) => d,
            Message::Close(_) => break,
            _ => continue,
        };
        match data.first() {
            Some(&STDIN) => {}
            Some(&CLOSE) => break,
            _ => continue,
        }
        let mut echo: Vec<u8> = Vec::new();
        for &b in &data[1..] {
            match b {
                b'\r' | b'\n' => {
                    echo.extend_from_slice(b"\r\n");
                    let _ = socket.send(frame(STDOUT, &echo)).await;
                    echo.clear();
                    let text = String::from_utf8_lossy(&line).trim().to_string();
                    line.clear();
                    if text == "exit" || text.starts_with("exit ") {
                        code = text[4..].trim().parse().unwrap_or(0);
                        break 'session;
                    }
                    if !text.is_empty() {
                        let argv = vec!["sh".to_string(), "-c".to_string(), text];
                        let call = ExecCall {
                            namespace: &p.namespace,
                            pod: &p.pod,
                            container: &p.container,
                            command: &argv,
                            stdin: None,
                            tty: true,
                        };
                        match kubelet.exec(&call) {
                            Ok(r) => {
                                let out = tty_text(&r.output);
                                if !out.is_empty() {
                                    let _ = socket.send(frame(STDOUT, out.as_bytes())).await;
                                }
                            }
                            Err(f) => {
                                finish(&mut socket, &failure_status(&f, &p.container)).await;
                                return;
                            }
                        }
                    }
                    echo.extend_from_slice(PROMPT);
                }
                0x7f | 0x08 => {
                    if line.pop().is_some() {
                        echo.extend_from_slice(b"\x08 \x08");
                    }
                }
                0x03 => {
                    line.clear();
                    echo.extend_from_slice(b"^C\r\n");
                    echo.extend_from_slice(PROMPT);
                }
                0x04 if line.is_empty() => break 'session,
                _ => {
                    line.push(b);
                    echo.push(b);
                }
            }
        }
        if !echo.is_empty() {
            let _ = socket.send(frame(STDOUT, &echo)).await;
        }
    }
    finish(&mut socket, &exit_status(&p.command, code)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_statuses_carry_the_code_kubectl_prints() {
        let cmd = vec!["sh".to_string(), "-c".to_string(), "exit 3".to_string()];
        assert_eq!(
            exit_status(&cmd, 0),
            json!({"metadata": {}, "status": "Success"})
        );
        let s = exit_status(&cmd, 3);
        assert_eq!(s["reason"], "NonZeroExitCode");
        assert_eq!(
            s["details"]["causes"][0],
            json!({"reason": "ExitCode", "message": "3"})
        );
        assert_eq!(
            s["message"],
            "command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3"
        );
    }

    #[test]
    fn exec_container_choice_lists_init_containers_separately() {
        let pod = serde_json::json!({"spec": {"initContainers": [{"name": "init"}], "containers": [{"name": "a"}, {"name": "b"}]}});
        assert_eq!(
            choose_container(&pod, "p", "").map_err(|s| s.message),
            Err("a container name must be specified for pod p, choose one of: [a b] or one of the init containers: [init]".into())
        );
    }
}
