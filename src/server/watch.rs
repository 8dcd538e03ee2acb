//! Watch: chunked newline-delimited events, resourceVersion semantics,
//! watch-list (`sendInitialEvents` + the `k8s.io/initial-events-end`
//! bookmark), 410 Expired, `timeoutSeconds`, Table events.

use super::read::Filter;
use super::render::{self, IncludeObject};
use super::{ApiServer, Ctx, response};
use crate::api::meta;
use crate::api::resource::ResourceInfo;
use crate::api::status::Status;
use crate::registry::res_key;
use crate::store::{EventType, StoreError};
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Response, header};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc};

struct Encoder {
    info: &'static ResourceInfo,
    table: Option<(IncludeObject, &'static str)>,
    headers_sent: bool,
    server: Arc<ApiServer>,
}

impl Encoder {
    fn event(&mut self, ty: &str, obj: &Arc<Value>) -> Bytes {
        #[derive(serde::Serialize)]
        struct Event<'a, T: serde::Serialize> {
            #[serde(rename = "type")]
            ty: &'a str,
            object: T,
        }
        match self.table {
            Some((include, version)) => {
                let meta = json!({"resourceVersion": meta::resource_version(obj).unwrap_or(0).to_string()});
                let now = self.server.registry.clock.now();
                let objs = std::slice::from_ref(obj);
                let t = render::table(
                    self.info,
                    objs,
                    meta,
                    include,
                    now,
                    !self.headers_sent,
                    version,
                );
                self.headers_sent = true;
                line(&Event { ty, object: t })
            }
            None => line(&Event { ty, object: &**obj }),
        }
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let mut md = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            md["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        line(
            &json!({"type": "BOOKMARK", "object": {"kind": self.info.kind, "apiVersion": self.info.api_version(), "metadata": md}}),
        )
    }
}

fn line<T: serde::Serialize + ?Sized>(v: &T) -> Bytes {
    let mut b = serde_json::to_vec(v).unwrap_or_default();
    b.push(b'\n');
    Bytes::from(b)
}

/// Starts a watch and streams it.
pub fn watch(ctx: &Ctx<'_>) -> Response<Body> {
    let filter = match Filter::from_query(ctx) {
        Ok(f) => f,
        Err(s) => return response::status(&s),
    };
    let q = &ctx.query;
    if let Err(s) = super::options::check_watch(q) {
        return response::status(&s);
    }
    let send_initial = q.get("sendInitialEvents") == Some("true");
    let requested_rv = q
        .get("resourceVersion")
        .filter(|r| !r.is_empty() && *r != "0")
        .map(str::parse::<u64>);
    let requested_rv = match requested_rv {
        Some(Err(_)) => {
            return response::status(&Status::bad_request(format!(
                "invalid resource version: {}",
                q.get("resourceVersion").unwrap_or("")
            )));
        }
        Some(Ok(rv)) => Some(rv),
        None => None,
    };
    let store = &ctx.server.registry.store;
    let res = res_key(ctx.info);
    let table = render::wants_table(&ctx.accept).then(|| {
        (
            IncludeObject::parse(q.get("includeObject")),
            render::table_version(&ctx.accept),
        )
    });
    let mut enc = Encoder {
        info: ctx.info,
        table,
        headers_sent: false,
        server: ctx.server.clone(),
    };
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(256);
    let mut initial: Vec<Bytes> = Vec::new();
    let mut seen: HashSet<(String, String)> = HashSet::new();

    // Initial state: synthetic ADDED events, or the backlog after an RV.
    let start = match requested_rv.filter(|_| !send_initial) {
        Some(rv) => match store.watch(res, rv) {
            Ok(w) => {
                let (current, _) = store.list(res, filter.namespace.as_deref());
                seen.extend(
                    current
                        .iter()
                        .filter(|o| filter.matches(o))
                        .map(|o| (meta::namespace(o).to_string(), meta::name(o).to_string())),
                );
                for ev in &w.backlog {
                    if let Some(b) =
                        filter_event(&mut enc, &filter, &mut seen, ev.kind, ev.object())
                    {
                        initial.push(b);
                    }
                }
                w
            }
            Err(StoreError::Expired { requested, oldest }) => {
                let s =
                    Status::expired(format!("too old resource version: {requested} ({oldest})"));
                return stream_once(line(&json!({"type": "ERROR", "object": s.to_json()})));
            }
            Err(e) => return response::status(&Status::internal(e)),
        },
        None => {
            let (items, rv) = store.list(res, filter.namespace.as_deref());
            let w = match store.watch(res, rv) {
                Ok(w) => w,
                Err(e) => return response::status(&Status::internal(e)),
            };
            for obj in items.iter().filter(|o| filter.matches(o)) {
                seen.insert((
                    meta::namespace(obj).to_string(),
                    meta::name(obj).to_string(),
                ));
                initial.push(enc.event("ADDED", obj));
            }
            if send_initial {
                initial.push(enc.bookmark(rv, true));
            }
            w
        }
    };

    let timeout = q
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .filter(|t| *t > 0);
    let start_rv = start.start_rv;
    let mut live = start.live;
    tokio::spawn(async move {
        for b in initial {
            if tx.send(Ok(b)).await.is_err() {
                return;
            }
        }
        let deadline =
            timeout.map(|t| tokio::time::Instant::now() + std::time::Duration::from_secs(t));
        loop {
            let next = async {
                match deadline {
                    Some(d) => tokio::time::timeout_at(d, live.recv()).await.ok(),
                    None => Some(live.recv().await),
                }
            };
            tokio::select! {
                ev = next => match ev {
                    None => return, // timeout: end the stream, the client re-watches
                    Some(Err(broadcast::error::RecvError::Lagged(_))) | Some(Err(broadcast::error::RecvError::Closed)) => return,
                    Some(Ok(ev)) => {
                        if ev.res != res || ev.rv <= start_rv {
                            continue;
                        }
                        if let Some(b) = filter_event(&mut enc, &filter, &mut seen, ev.kind, ev.object())
                            && tx.send(Ok(b)).await.is_err() {
                                return;
                            }
                    }
                },
                _ = tx.closed() => return,
            }
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    let mut resp = Response::new(Body::from_stream(stream));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// Applies the watch's selectors to an event: an object that starts
/// matching arrives as ADDED, one that stops matching as DELETED.
fn filter_event(
    enc: &mut Encoder,
    filter: &Filter,
    seen: &mut HashSet<(String, String)>,
    kind: EventType,
    obj: &Arc<Value>,
) -> Option<Bytes> {
    if filter.labels.is_empty() && filter.fields.is_empty() {
        if filter
            .namespace
            .as_deref()
            .is_some_and(|ns| meta::namespace(obj) != ns)
        {
            return None;
        }
        return Some(enc.event(kind.as_str(), obj));
    }
    let key = (
        meta::namespace(obj).to_string(),
        meta::name(obj).to_string(),
    );
    let matches = filter.matches(obj);
    let was = seen.contains(&key);
    let ty = match (kind, matches, was) {
        (EventType::Deleted, _, _) if matches || was => {
            seen.remove(&key);
            "DELETED"
        }
        (EventType::Deleted, _, _) => return None,
        (_, true, true) => "MODIFIED",
        (_, true, false) => {
            seen.insert(key);
            "ADDED"
        }
        (_, false, true) => {
            seen.remove(&key);
            "DELETED"
        }
        (_, false, false) => return None,
    };
    Some(enc.event(ty, obj))
}

fn stream_once(b: Bytes) -> Response<Body> {
    let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(b) });
    let mut resp = Response::new(Body::from_stream(stream));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}
