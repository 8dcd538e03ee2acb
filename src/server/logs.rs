//! `GET pods/<name>/log`: the apiserver's container check
//! (`pod.LogLocation`), the kubelet's state check
//! (`validateContainerLogStatus`) and the log options (`previous`,
//! `follow`, `tailLines`, `timestamps`, `sinceSeconds`, `sinceTime`,
//! `limitBytes`). `follow` streams until the container stops.

use super::kubelet_api::{KubeletApi, LogSnapshot};
use super::{Ctx, response};
use crate::api::status::{GroupResource, Status};
use crate::registry::res_key;
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Response, header};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use std::sync::Arc;

/// Parsed `PodLogOptions`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogOptions {
    pub container: String,
    pub previous: bool,
    pub follow: bool,
    pub tail_lines: Option<i64>,
    pub timestamps: bool,
    pub since_seconds: Option<i64>,
    pub since_time: Option<Timestamp>,
    pub limit_bytes: Option<i64>,
}

fn int_param(q: &super::query::Query, name: &str) -> Result<Option<i64>, Status> {
    match q.get(name) {
        None | Some("") => Ok(None),
        Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
            Status::bad_request(format!("strconv.ParseInt: parsing {v:?}: invalid syntax"))
        }),
    }
}

/// `PodLogOptions` validation messages (`ValidatePodLogOptions`).
fn invalid(field: &str, value: i64, why: &str) -> Status {
    Status::bad_request(format!(
        "PodLogOptions \"\" is invalid: {field}: Invalid value: {value}: {why}"
    ))
}

impl LogOptions {
    pub fn parse(q: &super::query::Query) -> Result<Self, Status> {
        let o = Self {
            container: q.get("container").unwrap_or("").to_string(),
            previous: q.flag("previous"),
            follow: q.flag("follow"),
            tail_lines: int_param(q, "tailLines")?,
            timestamps: q.flag("timestamps"),
            since_seconds: int_param(q, "sinceSeconds")?,
            since_time: match q.get("sinceTime") {
                None | Some("") => None,
                Some(t) => Some(t.parse::<Timestamp>().map_err(|_| {
                    Status::bad_request(format!("parsing time \"{t}\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"{t}\" as \"2006\""))
                })?),
            },
            limit_bytes: int_param(q, "limitBytes")?,
        };
        if let Some(t) = o.tail_lines.filter(|t| *t < 0) {
            return Err(invalid(
                "tailLines",
                t,
                "must be greater than or equal to 0",
            ));
        }
        if let Some(b) = o.limit_bytes.filter(|b| *b < 1) {
            return Err(invalid("limitBytes", b, "must be greater than 0"));
        }
        if let Some(s) = o.since_seconds.filter(|s| *s < 1) {
            return Err(invalid("sinceSeconds", s, "must be greater than 0"));
        }
        if o.since_seconds.is_some() && o.since_time.is_some() {
            return Err(Status::bad_request(
                "PodLogOptions \"\" is invalid: <nil>: Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified",
            ));
        }
        Ok(o)
    }
}

/// The `name`s of the containers listed at `path` in a pod.
pub(super) fn names(pod: &Value, path: &str) -> Vec<String> {
    pod.pointer(path)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("name").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

/// The apiserver's `validateContainer` for logs: which container, or why not.
pub fn choose_container(pod: &Value, pod_name: &str, requested: &str) -> Result<String, Status> {
    let containers = names(pod, "/spec/containers");
    if requested.is_empty() {
        return match containers.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(Status::bad_request(format!(
                "a container name must be specified for pod {pod_name}"
            ))),
            _ => {
                // podutil.VisitContainers: init, regular, then ephemeral.
                let mut all = names(pod, "/spec/initContainers");
                all.extend(containers);
                all.extend(names(pod, "/spec/ephemeralContainers"));
                Err(Status::bad_request(format!(
                    "a container name must be specified for pod {pod_name}, choose one of: [{}]",
                    all.join(" ")
                )))
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

/// The kubelet's `validateContainerLogStatus`: Ok when there are logs to
/// show for this state, else its message.
pub fn check_log_status(
    status: &Value,
    pod_name: &str,
    container: &str,
    previous: bool,
) -> Result<(), String> {
    let find = |p: &str| {
        status
            .pointer(p)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|c| c.get("name").and_then(Value::as_str) == Some(container))
    };
    let Some(cs) = find("/containerStatuses")
        .or_else(|| find("/initContainerStatuses"))
        .or_else(|| find("/ephemeralContainerStatuses"))
    else {
        return Err(format!(
            "container {container:?} in pod {pod_name:?} is not available"
        ));
    };
    let last = cs.pointer("/lastState/terminated");
    let last_id = last
        .and_then(|t| t.get("containerID"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let state = cs.get("state");
    let has = |k: &str| state.and_then(|s| s.get(k)).is_some();
    if previous {
        if last.is_none() || last_id.is_empty() {
            return Err(format!(
                "previous terminated container {container:?} in pod {pod_name:?} not found"
            ));
        }
        return Ok(());
    }
    if has("running") {
        return Ok(());
    }
    if let Some(t) = state.and_then(|s| s.get("terminated")) {
        let id = t.get("containerID").and_then(Value::as_str).unwrap_or("");
        if id.is_empty() && last_id.is_empty() {
            return Err(format!(
                "container {container:?} in pod {pod_name:?} is terminated"
            ));
        }
        return Ok(());
    }
    if last.is_some() {
        if last_id.is_empty() {
            return Err(format!(
                "container {container:?} in pod {pod_name:?} is terminated"
            ));
        }
        return Ok(());
    }
    if let Some(w) = state.and_then(|s| s.get("waiting")) {
        let reason = w.get("reason").and_then(Value::as_str).unwrap_or("");
        return Err(match reason {
            "ErrImagePull" => format!(
                "container {container:?} in pod {pod_name:?} is waiting to start: image can't be pulled"
            ),
            "ImagePullBackOff" => format!(
                "container {container:?} in pod {pod_name:?} is waiting to start: trying and failing to pull image"
            ),
            r => format!("container {container:?} in pod {pod_name:?} is waiting to start: {r}"),
        });
    }
    Err(format!(
        "container {container:?} in pod {pod_name:?} is in an unknown state"
    ))
}

/// The CRI log timestamp (`2006-01-02T15:04:05.000000000Z07:00`).
pub fn log_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S.%9fZ").to_string()
}

/// The lines to send for `opts` at `now`, formatted, with `limitBytes`
/// applied (the caller cuts the stream there).
pub fn render(lines: &[(Timestamp, String)], opts: &LogOptions, now: Timestamp) -> String {
    let since = opts.since_time.or_else(|| {
        opts.since_seconds
            .and_then(|s| now.checked_sub(SignedDuration::from_secs(s)).ok())
    });
    let kept: Vec<&(Timestamp, String)> = lines
        .iter()
        .filter(|(at, _)| since.is_none_or(|s| *at >= s))
        .collect();
    let skip = match opts.tail_lines {
        Some(t) => kept
            .len()
            .saturating_sub(usize::try_from(t).unwrap_or(usize::MAX)),
        None => 0,
    };
    let mut out = String::new();
    for (at, line) in &kept[skip..] {
        push_line(&mut out, *at, line, opts.timestamps);
    }
    if let Some(limit) = opts.limit_bytes {
        truncate_bytes(&mut out, limit);
    }
    out
}

fn push_line(out: &mut String, at: Timestamp, line: &str, timestamps: bool) {
    if timestamps {
        out.push_str(&log_time(at));
        out.push(' ');
    }
    out.push_str(line);
    out.push('\n');
}

fn truncate_bytes(s: &mut String, limit: i64) {
    let limit = usize::try_from(limit.max(0)).unwrap_or(usize::MAX);
    if s.len() > limit {
        let mut cut = limit;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
}

fn plain(body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    resp
}

/// `GET .../pods/<name>/log`.
pub fn serve(ctx: &Ctx<'_>) -> Response<Body> {
    let (ns, name) = (ctx.req.namespace.as_str(), ctx.req.name.as_str());
    let gr = GroupResource {
        group: "",
        resource: "pods",
    };
    let store = &ctx.server.registry.store;
    let Some(pod) = store.get(res_key(ctx.info), ns, name) else {
        return response::status(&Status::not_found(gr, name));
    };
    let opts = match LogOptions::parse(&ctx.query) {
        Ok(o) => o,
        Err(s) => return response::status(&s),
    };
    let container = match choose_container(&pod, name, &opts.container) {
        Ok(c) => c,
        Err(s) => return response::status(&s),
    };
    let bound = pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    let Some(kubelet) = ctx.server.kubelet.get().filter(|_| bound).cloned() else {
        // No node yet: the apiserver streams nothing.
        return plain(Body::empty());
    };
    kubelet.refresh(ns, name);
    let pod = store.get(res_key(ctx.info), ns, name).unwrap_or(pod);
    let status = pod.get("status").cloned().unwrap_or(Value::Null);
    if let Err(msg) = check_log_status(&status, name, &container, opts.previous) {
        return response::status(&Status::bad_request(msg));
    }
    let log = kubelet
        .logs(ns, name, &container, opts.previous)
        .unwrap_or_default();
    let now = ctx.server.registry.clock.now();
    let first = render(&log.lines, &opts, now);
    if !(opts.follow && log.running && !opts.previous) {
        return plain(Body::from(first));
    }
    follow(kubelet, ns, name, &container, opts, first, log)
}

/// Streams the log as it grows; ends when the container stops or restarts.
fn follow(
    kubelet: Arc<dyn KubeletApi>,
    ns: &str,
    name: &str,
    container: &str,
    opts: LogOptions,
    first: String,
    log: LogSnapshot,
) -> Response<Body> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    let (ns, name, container) = (ns.to_string(), name.to_string(), container.to_string());
    let mut budget = opts.limit_bytes.unwrap_or(i64::MAX);
    budget -= first.len() as i64;
    // Where the stream is: the last line's time and how many lines with
    // that time were sent.
    let mut last_at = log.lines.last().map(|l| l.0);
    let mut sent = log.lines.iter().filter(|l| Some(l.0) == last_at).count();
    let id = log.container_id.clone();
    tokio::spawn(async move {
        if !first.is_empty() && tx.send(Ok(Bytes::from(first))).await.is_err() {
            return;
        }
        loop {
            if budget <= 0 {
                return;
            }
            tokio::select! {
                () = tokio::time::sleep(std::time::Duration::from_millis(100)) => {}
                () = tx.closed() => return,
            }
            let Some(now) = kubelet.logs(&ns, &name, &container, false) else {
                return;
            };
            if now.container_id != id {
                return;
            }
            // Lines are in time order; the oldest may have been rotated out.
            let start = match last_at {
                Some(t) => {
                    let before = now.lines.iter().filter(|l| l.0 < t).count();
                    let at_t = now.lines.iter().filter(|l| l.0 == t).count();
                    before + sent.min(at_t)
                }
                None => 0,
            };
            let mut chunk = String::new();
            for (at, line) in now.lines.iter().skip(start) {
                push_line(&mut chunk, *at, line, opts.timestamps);
            }
            if let Some(l) = now.lines.last() {
                last_at = Some(l.0);
                sent = now.lines.iter().filter(|x| x.0 == l.0).count();
            }
            if !chunk.is_empty() {
                truncate_bytes(&mut chunk, budget);
                budget -= chunk.len() as i64;
                if tx.send(Ok(Bytes::from(chunk))).await.is_err() {
                    return;
                }
            }
            if !now.running {
                return;
            }
        }
    });
    plain(Body::from_stream(
        tokio_stream::wrappers::ReceiverStream::new(rx),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn container_choice_follows_the_apiserver() {
        let pod = json!({"spec": {"initContainers": [{"name": "init"}], "containers": [{"name": "a"}, {"name": "b"}]}});
        let msg = |r: Result<String, Status>| r.map_err(|s| s.message);
        assert_eq!(
            msg(choose_container(&pod, "p", "")),
            Err("a container name must be specified for pod p, choose one of: [init a b]".into())
        );
        assert_eq!(msg(choose_container(&pod, "p", "init")), Ok("init".into()));
        assert_eq!(
            msg(choose_container(&pod, "p", "x")),
            Err("container x is not valid for pod p".into())
        );
        let one = json!({"spec": {"containers": [{"name": "only"}]}});
        assert_eq!(msg(choose_container(&one, "p", "")), Ok("only".into()));
    }

    #[test]
    fn log_status_checks_use_the_kubelet_messages() {
        let waiting = |reason: &str| json!({"containerStatuses": [{"name": "c", "state": {"waiting": {"reason": reason}}}]});
        let cases = [
            (
                waiting("ContainerCreating"),
                false,
                Err("container \"c\" in pod \"p\" is waiting to start: ContainerCreating"),
            ),
            (
                waiting("ErrImagePull"),
                false,
                Err("container \"c\" in pod \"p\" is waiting to start: image can't be pulled"),
            ),
            (
                waiting("ImagePullBackOff"),
                false,
                Err(
                    "container \"c\" in pod \"p\" is waiting to start: trying and failing to pull image",
                ),
            ),
            (
                waiting("CreateContainerConfigError"),
                true,
                Err("previous terminated container \"c\" in pod \"p\" not found"),
            ),
            (
                json!({"containerStatuses": [{"name": "c", "state": {"running": {}}}]}),
                false,
                Ok(()),
            ),
            (
                json!({"containerStatuses": [{"name": "c", "state": {"waiting": {"reason": "CrashLoopBackOff"}}, "lastState": {"terminated": {"exitCode": 1, "containerID": "containerd://1"}}}]}),
                true,
                Ok(()),
            ),
            (
                json!({"containerStatuses": [{"name": "c", "state": {"waiting": {"reason": "CrashLoopBackOff"}}, "lastState": {"terminated": {"exitCode": 1, "containerID": "containerd://1"}}}]}),
                false,
                Ok(()),
            ),
            (
                json!({}),
                false,
                Err("container \"c\" in pod \"p\" is not available"),
            ),
        ];
        for (status, previous, want) in cases {
            assert_eq!(
                check_log_status(&status, "p", "c", previous),
                want.map_err(str::to_string),
                "{status} previous={previous}"
            );
        }
    }

    #[test]
    fn render_applies_since_tail_timestamps_and_limit() {
        let lines = vec![
            (ts("2025-06-01T10:00:00Z"), "one".to_string()),
            (ts("2025-06-01T10:00:05.5Z"), "two".to_string()),
            (ts("2025-06-01T10:00:09Z"), "three".to_string()),
        ];
        let now = ts("2025-06-01T10:00:10Z");
        let all = LogOptions::default();
        assert_eq!(render(&lines, &all, now), "one\ntwo\nthree\n");
        let tail = LogOptions {
            tail_lines: Some(2),
            timestamps: true,
            ..Default::default()
        };
        assert_eq!(
            render(&lines, &tail, now),
            "2025-06-01T10:00:05.500000000Z two\n2025-06-01T10:00:09.000000000Z three\n"
        );
        let since = LogOptions {
            since_seconds: Some(5),
            ..Default::default()
        };
        assert_eq!(render(&lines, &since, now), "two\nthree\n");
        let limit = LogOptions {
            limit_bytes: Some(6),
            ..Default::default()
        };
        assert_eq!(render(&lines, &limit, now), "one\ntw");
        let zero_tail = LogOptions {
            tail_lines: Some(0),
            ..Default::default()
        };
        assert_eq!(render(&lines, &zero_tail, now), "");
    }

    #[test]
    fn bad_options_get_validation_messages() {
        let q = super::super::query::Query::parse(Some("tailLines=-1"));
        assert_eq!(
            LogOptions::parse(&q).map_err(|s| s.message),
            Err("PodLogOptions \"\" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0".into())
        );
    }
}
