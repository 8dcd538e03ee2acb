//! The packed form of a stored object: a compact binary encoding of a
//! `serde_json::Value`, private to this process (never written anywhere,
//! so it can change freely with the code).
//!
//! One tag byte per value, LEB128 lengths and integers, object keys and
//! common short strings as numbers into fixed tables of Kubernetes field
//! names and values. A Running pod of 2.9 KB of JSON packs to about half
//! that, and decodes three times faster than its JSON parses: no quoting,
//! escapes or number text to read, every map and string allocated at its
//! final size.

use super::strtable::StrTable;
use serde_json::{Map, Number, Value};
use std::cell::RefCell;
use std::sync::{Arc, OnceLock};

/// Why packed bytes did not decode (only corrupt input: the store decodes
/// what it encoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpackError(&'static str);

impl std::fmt::Display for UnpackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "packed object: {}", self.0)
    }
}

impl std::error::Error for UnpackError {}

const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
/// A u64.
const UINT: u8 = 3;
/// A negative i64, as `-(n + 1)`.
const NINT: u8 = 4;
const FLOAT: u8 = 5;
/// A string spelled out: length, UTF-8 bytes.
const STR: u8 = 6;
/// A string from `VALUES`.
const KNOWN: u8 = 7;
const ARRAY: u8 = 8;
/// Entry count, then per entry a key (0 and the key spelled out, or 1 +
/// its index in `KEYS`) and a value.
const OBJECT: u8 = 9;

/// How deep `unpack` follows nesting (serde_json's own parser limit).
const MAX_DEPTH: usize = 128;

/// Field names of the objects a cluster holds most of (sorted, so a
/// reader can check for a name; lookups go through a `StrTable`).
const KEYS: &[&str] = &[
    "Corefile",
    "access",
    "action",
    "add",
    "address",
    "addressType",
    "addresses",
    "affinity",
    "allocatable",
    "allowPrivilegeEscalation",
    "annotations",
    "apiGroup",
    "apiVersion",
    "app",
    "app.kubernetes.io/name",
    "architecture",
    "args",
    "availableReplicas",
    "beta.kubernetes.io/arch",
    "beta.kubernetes.io/os",
    "blockOwnerDeletion",
    "bootID",
    "ca.crt",
    "capabilities",
    "capacity",
    "claimName",
    "clusterIP",
    "clusterIPs",
    "collisionCount",
    "command",
    "component",
    "conditions",
    "configMap",
    "configMapKeyRef",
    "containerID",
    "containerPort",
    "containerRuntimeVersion",
    "containerStatuses",
    "containers",
    "controller",
    "count",
    "cpu",
    "creationTimestamp",
    "daemonEndpoints",
    "data",
    "defaultMode",
    "deletionGracePeriodSeconds",
    "deletionTimestamp",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deployment.kubernetes.io/revision",
    "dnsPolicy",
    "downwardAPI",
    "drop",
    "effect",
    "emptyDir",
    "enableServiceLinks",
    "endpoints",
    "endpoints.kubernetes.io/last-change-trigger-time",
    "endpointslice.kubernetes.io/managed-by",
    "env",
    "envFrom",
    "ephemeral-storage",
    "eventTime",
    "exec",
    "exitCode",
    "expirationSeconds",
    "failureThreshold",
    "fieldPath",
    "fieldRef",
    "finalizers",
    "finishedAt",
    "firstTimestamp",
    "fullyLabeledReplicas",
    "generateName",
    "generation",
    "holderIdentity",
    "host",
    "hostIP",
    "hostIPs",
    "hostPath",
    "httpGet",
    "hugepages-1Gi",
    "hugepages-2Mi",
    "image",
    "imageID",
    "imagePullPolicy",
    "initContainerStatuses",
    "initContainers",
    "initialDelaySeconds",
    "internalTrafficPolicy",
    "involvedObject",
    "ip",
    "ipFamilies",
    "ipFamilyPolicy",
    "items",
    "k8s-app",
    "kernelVersion",
    "key",
    "kind",
    "kubeProxyVersion",
    "kubeadm.alpha.kubernetes.io/cri-socket",
    "kubeletEndpoint",
    "kubeletVersion",
    "kubernetes.io/arch",
    "kubernetes.io/cluster-service",
    "kubernetes.io/description",
    "kubernetes.io/hostname",
    "kubernetes.io/metadata.name",
    "kubernetes.io/name",
    "kubernetes.io/os",
    "kubernetes.io/service-name",
    "labelSelector",
    "labels",
    "lastHeartbeatTime",
    "lastProbeTime",
    "lastState",
    "lastTimestamp",
    "lastTransitionTime",
    "lastUpdateTime",
    "leaseDurationSeconds",
    "limits",
    "livenessProbe",
    "loadBalancer",
    "machineID",
    "matchExpressions",
    "matchLabels",
    "maxSurge",
    "maxUnavailable",
    "memory",
    "message",
    "metadata",
    "minReadySeconds",
    "mountPath",
    "name",
    "namespace",
    "node-role.kubernetes.io/control-plane",
    "node.alpha.kubernetes.io/ttl",
    "node.kubernetes.io/exclude-from-external-load-balancers",
    "nodeInfo",
    "nodeName",
    "nodeSelector",
    "observedGeneration",
    "operatingSystem",
    "operator",
    "optional",
    "osImage",
    "ownerReferences",
    "path",
    "periodSeconds",
    "persistentVolumeClaim",
    "phase",
    "pod-template-hash",
    "podAffinityTerm",
    "podAntiAffinity",
    "podCIDR",
    "podCIDRs",
    "podIP",
    "podIPs",
    "pods",
    "port",
    "ports",
    "preemptionPolicy",
    "preferredDuringSchedulingIgnoredDuringExecution",
    "priority",
    "priorityClassName",
    "progressDeadlineSeconds",
    "projected",
    "prometheus.io/port",
    "prometheus.io/scrape",
    "protocol",
    "provider",
    "providerID",
    "qosClass",
    "readOnly",
    "readOnlyRootFilesystem",
    "readinessProbe",
    "ready",
    "readyReplicas",
    "reason",
    "recursiveReadOnly",
    "renewTime",
    "replicas",
    "reportingComponent",
    "reportingInstance",
    "requests",
    "requiredDuringSchedulingIgnoredDuringExecution",
    "resourceVersion",
    "resources",
    "restartCount",
    "restartPolicy",
    "revisionHistoryLimit",
    "rollingUpdate",
    "running",
    "schedulerName",
    "scheme",
    "secret",
    "secretKeyRef",
    "secretName",
    "securityContext",
    "selector",
    "series",
    "serviceAccount",
    "serviceAccountName",
    "serviceAccountToken",
    "serving",
    "sessionAffinity",
    "source",
    "sources",
    "spec",
    "startTime",
    "started",
    "startedAt",
    "startupProbe",
    "state",
    "status",
    "strategy",
    "subsets",
    "successThreshold",
    "systemUUID",
    "taints",
    "targetPort",
    "targetRef",
    "tcpSocket",
    "template",
    "terminated",
    "terminating",
    "terminationGracePeriodSeconds",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "timeoutSeconds",
    "tolerationSeconds",
    "tolerations",
    "topologyKey",
    "type",
    "uid",
    "unavailableReplicas",
    "updatedReplicas",
    "value",
    "valueFrom",
    "values",
    "volumeMounts",
    "volumes",
    "volumes.kubernetes.io/controller-managed-attach-detach",
    "waiting",
    "weight",
];

/// Short string values that recur across objects, sorted like `KEYS`.
const VALUES: &[&str] = &[
    "",
    "/dev/termination-log",
    "/var/run/secrets/kubernetes.io/serviceaccount",
    "25%",
    "Always",
    "BackOff",
    "BestEffort",
    "Burstable",
    "Cluster",
    "ClusterFirst",
    "ClusterIP",
    "ConfigMap",
    "ContainersReady",
    "Created",
    "Deployment",
    "Equal",
    "Event",
    "Exists",
    "Failed",
    "False",
    "File",
    "Guaranteed",
    "HTTP",
    "IPv4",
    "IfNotPresent",
    "Initialized",
    "Killing",
    "Never",
    "NoExecute",
    "NoSchedule",
    "Node",
    "None",
    "Normal",
    "OnFailure",
    "Pending",
    "Pod",
    "PodReadyToStartContainers",
    "PodScheduled",
    "PreemptLowerPriority",
    "Pulled",
    "Pulling",
    "Ready",
    "ReplicaSet",
    "RollingUpdate",
    "Running",
    "ScalingReplicaSet",
    "Scheduled",
    "Secret",
    "Service",
    "SingleStack",
    "Started",
    "Succeeded",
    "SuccessfulCreate",
    "TCP",
    "True",
    "UDP",
    "Unknown",
    "Warning",
    "amd64",
    "apps/v1",
    "batch/v1",
    "ca.crt",
    "default",
    "default-scheduler",
    "deployment-controller",
    "kube-root-ca.crt",
    "kube-system",
    "kubelet",
    "linux",
    "metadata.namespace",
    "namespace",
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/unreachable",
    "replicaset-controller",
    "token",
    "v1",
];

/// The index of `key` in `KEYS`.
fn key_index(key: &str) -> Option<usize> {
    static INDEX: OnceLock<StrTable> = OnceLock::new();
    INDEX.get_or_init(|| StrTable::new(KEYS)).get(key)
}

/// The index of `s` in `VALUES` (every entry is shorter than 48 bytes).
fn value_index(s: &str) -> Option<usize> {
    static INDEX: OnceLock<StrTable> = OnceLock::new();
    if s.len() > 48 {
        return None;
    }
    INDEX.get_or_init(|| StrTable::new(VALUES)).get(s)
}

/// Packs `v` into one allocation of the packed size: the bytes are written
/// to a buffer each thread keeps and copied out once, instead of into a
/// `Vec` grown, shrunk to fit and then copied into an `Arc` (a huge
/// object's buffer is not kept for the thread's life).
pub fn pack(v: &Value) -> Arc<[u8]> {
    Packer::pack(|p| p.value(v))
}

/// Writes a packed object field by field, for an object the simulator
/// assembles itself (its Events): the tree `pack` would encode, without
/// building the tree. The caller gives each object's entry count first
/// and its keys in a map's order (sorted), as `pack` walks a tree; a
/// subtree already packed is copied in whole.
pub struct Packer<'a> {
    scratch: &'a mut Scratch,
}

/// The buffer `pack` and `Packer` write into before the one copy out,
/// and the packed form of the static keys `Packer` was given lately.
struct Scratch {
    out: Vec<u8>,
    /// (address, length, bytes used, packed bytes) of a `&'static str`
    /// key, in a slot picked by its address: its table lookup, done once.
    keys: [(usize, usize, u8, [u8; 2]); KEY_SLOTS],
}

/// Direct-mapped by the key's address: with a few dozen hot keys, 1,024
/// slots leave few pairs sharing one (at 256, a fifth of an Event's keys
/// missed).
const KEY_SLOTS: usize = 1024;

impl Scratch {
    const fn new() -> Self {
        Self {
            out: Vec::new(),
            keys: [(0, 0, 0, [0; 2]); KEY_SLOTS],
        }
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = const { RefCell::new(Scratch::new()) };
}

impl Packer<'_> {
    /// Packs what `write` writes, into one allocation of the packed size:
    /// the bytes go to a buffer each thread keeps and are copied out once
    /// (a huge object's buffer is not kept for the thread's life).
    /// A pack begun inside another's `write` gets a buffer of its own.
    pub fn pack(write: impl FnOnce(&mut Packer<'_>)) -> Arc<[u8]> {
        let run = |scratch: &mut Scratch| {
            scratch.out.clear();
            write(&mut Packer {
                scratch: &mut *scratch,
            });
            let bytes = Arc::from(&scratch.out[..]);
            if scratch.out.capacity() > 1 << 20 {
                scratch.out = Vec::new();
            }
            bytes
        };
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => run(&mut scratch),
            Err(_) => run(&mut Scratch::new()),
        })
    }

    /// An object of `entries` entries: that many `key`s follow, each with
    /// its value.
    pub fn object(&mut self, entries: usize) {
        self.scratch.out.push(OBJECT);
        write_len(&mut self.scratch.out, entries);
    }

    /// A key. A `'static` one is looked up in the table of keys once per
    /// thread (while its slot holds it), not on every object.
    pub fn key(&mut self, key: &'static str) {
        let addr = key.as_ptr().addr();
        let slot = ((addr ^ key.len()).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 54) % KEY_SLOTS;
        let Scratch { out, keys } = &mut *self.scratch;
        let (at, len, used, bytes) = &mut keys[slot];
        if *at == addr && *len == key.len() {
            out.push(bytes[0]);
            if *used == 2 {
                out.push(bytes[1]);
            }
            return;
        }
        let mark = out.len();
        write_key(out, key);
        if let [a] | [a, _] = out[mark..] {
            let n = out.len() - mark;
            (*at, *len, *used) = (addr, key.len(), n as u8);
            *bytes = [a, out.get(mark + 1).copied().unwrap_or(0)];
        }
    }

    /// A string value that may be one of the common ones (`VALUES`).
    pub fn str(&mut self, s: &str) {
        write_string(&mut self.scratch.out, s);
    }

    /// A string value that is free text (a name, a time, a message): it
    /// is spelled out without looking for it among the common ones. (Both
    /// forms decode to the same string.)
    pub fn text(&mut self, s: &str) {
        self.scratch.out.push(STR);
        write_str(&mut self.scratch.out, s);
    }

    pub fn int(&mut self, n: i64) {
        write_value(&mut self.scratch.out, &Value::from(n));
    }

    pub fn null(&mut self) {
        self.scratch.out.push(NULL);
    }

    pub fn value(&mut self, v: &Value) {
        write_value(&mut self.scratch.out, v);
    }

    /// A value packed before (by `pack`), copied in.
    pub fn packed(&mut self, bytes: &[u8]) {
        self.scratch.out.extend_from_slice(bytes);
    }
}

fn write_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn write_len(out: &mut Vec<u8>, n: usize) {
    write_varint(out, n as u64);
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    write_len(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

/// A string value: its number in `VALUES`, or spelled out.
fn write_string(out: &mut Vec<u8>, s: &str) {
    match value_index(s) {
        Some(i) => {
            out.push(KNOWN);
            write_len(out, i);
        }
        None => {
            out.push(STR);
            write_str(out, s);
        }
    }
}

/// An object key: 1 + its number in `KEYS`, or 0 and the key spelled out.
fn write_key(out: &mut Vec<u8>, k: &str) {
    match key_index(k) {
        Some(i) => write_len(out, i + 1),
        None => {
            out.push(0);
            write_str(out, k);
        }
    }
}

fn write_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.push(NULL),
        Value::Bool(false) => out.push(FALSE),
        Value::Bool(true) => out.push(TRUE),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                out.push(UINT);
                write_varint(out, u);
            } else if let Some(i) = n.as_i64() {
                // Negative here: as_u64 took every non-negative one.
                out.push(NINT);
                write_varint(out, !(i as u64));
            } else {
                out.push(FLOAT);
                out.extend_from_slice(&n.as_f64().unwrap_or(0.0).to_le_bytes());
            }
        }
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push(ARRAY);
            write_len(out, items.len());
            for item in items {
                write_value(out, item);
            }
        }
        Value::Object(map) => {
            out.push(OBJECT);
            write_len(out, map.len());
            for (k, v) in map {
                write_key(out, k);
                write_value(out, v);
            }
        }
    }
}

/// Decodes packed bytes that several holders share (the store's slot, a
/// watch history entry, the controllers' snapshot): the last few trees
/// decoded are kept, keyed by the bytes' own allocation (held, so it is
/// not reused), and handed out again. A kubelet's sync of a pod gone cold
/// reads it from its snapshot, from the store, and from the store again
/// for its status write: one decode (about 60,000 instructions for a
/// Running pod) instead of three.
pub fn unpack_shared(bytes: &Arc<[u8]>) -> Result<Arc<Value>, UnpackError> {
    /// How many decoded trees each thread keeps.
    const KEPT: usize = 2;
    /// Packed bytes and the tree decoded from them.
    type Decoded = (Arc<[u8]>, Arc<Value>);
    thread_local! {
        static DECODED: RefCell<Vec<Decoded>> = const { RefCell::new(Vec::new()) };
    }
    let kept = DECODED.with_borrow(|d| {
        d.iter()
            .find(|(b, _)| Arc::ptr_eq(b, bytes))
            .map(|(_, t)| t.clone())
    });
    if let Some(tree) = kept {
        return Ok(tree);
    }
    let tree = Arc::new(unpack(bytes)?);
    DECODED.with_borrow_mut(|d| {
        if d.len() == KEPT {
            d.remove(0);
        }
        d.push((bytes.clone(), tree.clone()));
    });
    Ok(tree)
}

/// Decodes what `pack` encoded.
pub fn unpack(bytes: &[u8]) -> Result<Value, UnpackError> {
    let mut r = Reader { bytes, at: 0 };
    let v = r.value(0)?;
    if r.at != bytes.len() {
        return Err(UnpackError("trailing bytes"));
    }
    Ok(v)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, UnpackError> {
        let b = *self
            .bytes
            .get(self.at)
            .ok_or(UnpackError("unexpected end"))?;
        self.at += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, UnpackError> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(UnpackError("integer too long"))
    }

    /// A length, which cannot exceed what is left to read (every element
    /// takes at least one byte).
    fn len(&mut self) -> Result<usize, UnpackError> {
        let n = usize::try_from(self.varint()?).map_err(|_| UnpackError("length too large"))?;
        if n > self.bytes.len() - self.at {
            return Err(UnpackError("length beyond the end"));
        }
        Ok(n)
    }

    /// An index into a table.
    fn index(&mut self) -> Result<usize, UnpackError> {
        usize::try_from(self.varint()?).map_err(|_| UnpackError("unknown table entry"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], UnpackError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|e| *e <= self.bytes.len())
            .ok_or(UnpackError("unexpected end"))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn string(&mut self) -> Result<String, UnpackError> {
        let n = self.len()?;
        let raw = self.take(n)?;
        std::str::from_utf8(raw)
            .map(str::to_owned)
            .map_err(|_| UnpackError("invalid UTF-8"))
    }

    fn table(&mut self, table: &[&str]) -> Result<String, UnpackError> {
        let i = self.index()?;
        table
            .get(i)
            .map(|s| (*s).to_owned())
            .ok_or(UnpackError("unknown table entry"))
    }

    fn value(&mut self, depth: usize) -> Result<Value, UnpackError> {
        if depth > MAX_DEPTH {
            return Err(UnpackError("nested too deeply"));
        }
        Ok(match self.byte()? {
            NULL => Value::Null,
            FALSE => Value::Bool(false),
            TRUE => Value::Bool(true),
            UINT => Value::from(self.varint()?),
            NINT => Value::from(!(self.varint()?) as i64),
            FLOAT => {
                let raw: [u8; 8] = self
                    .take(8)?
                    .try_into()
                    .map_err(|_| UnpackError("unexpected end"))?;
                Number::from_f64(f64::from_le_bytes(raw))
                    .map(Value::Number)
                    .ok_or(UnpackError("not a finite number"))?
            }
            STR => Value::String(self.string()?),
            KNOWN => Value::String(self.table(VALUES)?),
            ARRAY => {
                let n = self.len()?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.value(depth + 1)?);
                }
                Value::Array(items)
            }
            OBJECT => {
                let n = self.len()?;
                let mut map = Map::with_capacity(n);
                for _ in 0..n {
                    let key = match self.index()? {
                        0 => self.string()?,
                        i => self.table_key(i - 1)?,
                    };
                    let v = self.value(depth + 1)?;
                    map.insert(key, v);
                }
                Value::Object(map)
            }
            _ => return Err(UnpackError("unknown tag")),
        })
    }

    fn table_key(&self, i: usize) -> Result<String, UnpackError> {
        KEYS.get(i)
            .map(|s| (*s).to_owned())
            .ok_or(UnpackError("unknown table entry"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What a `Packer` writes decodes to the tree it describes, with keys
    /// from the table and not, values common and not, free text spelled
    /// out, and a subtree packed before; the static keys' cached forms
    /// (written the second time round) are the same bytes.
    #[test]
    fn a_packer_writes_what_pack_would() {
        let sub = json!({"component": "kubelet", "host": "node-1"});
        let packed_sub = pack(&sub);
        let want = json!({
            "apiVersion": "v1", "count": 3, "eventTime": null, "metadata":
            {"name": "a", "namespace": "default", "zz-unlisted": "Running"},
            "negative": -5, "source": sub.clone(), "text": "Pending",
        });
        let write = |p: &mut Packer<'_>| {
            p.object(7);
            p.key("apiVersion");
            p.str("v1");
            p.key("count");
            p.int(3);
            p.key("eventTime");
            p.null();
            p.key("metadata");
            p.object(3);
            // "name" may share its address with "namespace"'s first bytes.
            p.key("name");
            p.text("a");
            p.key("namespace");
            p.str("default");
            p.key("zz-unlisted");
            p.str("Running");
            p.key("negative");
            p.int(-5);
            p.key("source");
            p.packed(&packed_sub);
            p.key("text");
            p.text("Pending");
        };
        let first = Packer::pack(write);
        let again = Packer::pack(write);
        assert_eq!(unpack(&first).unwrap(), want);
        assert_eq!(first, again, "cached keys write the same bytes");
        // A pack inside a pack's writing has a buffer of its own.
        let nested = Packer::pack(|p| {
            p.object(1);
            p.key("source");
            p.packed(&pack(&sub));
        });
        assert_eq!(unpack(&nested).unwrap(), json!({"source": sub}));
        assert_eq!(
            unpack(&pack(&want)).unwrap(),
            want,
            "pack's own form decodes the same"
        );
    }

    #[test]
    fn the_tables_are_sorted_unique_and_short() {
        assert!(
            KEYS.windows(2).all(|w| w[0] < w[1]),
            "KEYS sorted, no repeats"
        );
        assert!(
            VALUES.windows(2).all(|w| w[0] < w[1]),
            "VALUES sorted, no repeats"
        );
        assert!(VALUES.iter().all(|v| v.len() <= 48));
    }

    #[test]
    fn every_table_value_is_found_and_near_misses_are_not() {
        for (i, v) in VALUES.iter().enumerate() {
            assert_eq!(value_index(v), Some(i), "{v}");
            let mut longer = v.to_string();
            longer.push('x');
            assert_eq!(value_index(&longer), None, "{longer}");
        }
        for s in [
            "web-7d4b9c8f5-abcde",
            "10.244.1.5",
            "2025-05-01T10:00:00Z",
            "x",
        ] {
            assert_eq!(value_index(s), None, "{s}");
        }
    }

    #[test]
    fn every_kind_of_value_round_trips() {
        let cases = [
            json!(null),
            json!(true),
            json!(false),
            json!(0),
            json!(127),
            json!(128),
            json!(u64::MAX),
            json!(-1),
            json!(i64::MIN),
            json!(0.5),
            json!(-1e300),
            json!(""),
            json!("True"),
            json!("héllo \u{0} \"quoted\" \\ \n"),
            json!([]),
            json!({}),
            json!([1, "a", null, [[]], {"x": {}}]),
            json!({"metadata": {"name": "a", "labels": {"app": "web", "zz-unknown/key": "v"}},
                   "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80, "protocol": "TCP"}]}]},
                   "": "empty key", "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}),
        ];
        for v in cases {
            let bytes = pack(&v);
            assert_eq!(unpack(&bytes), Ok(v.clone()), "{v}");
            // Numbers keep their kind (a u64 stays a u64, a float a float).
            if let (Value::Number(a), Ok(Value::Number(b))) = (&v, unpack(&bytes)) {
                assert_eq!(
                    (a.is_u64(), a.is_i64(), a.is_f64()),
                    (b.is_u64(), b.is_i64(), b.is_f64())
                );
            }
        }
    }

    #[test]
    fn a_pod_packs_to_well_under_its_json() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-7d4b9c8f6d-x2k4z", "namespace": "default", "uid": "6f1c2c3e-2d7e-4c1b-9d0e-6b7f0b2c1a11",
                         "labels": {"app": "web", "pod-template-hash": "7d4b9c8f6d"}, "resourceVersion": "12"},
            "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27", "imagePullPolicy": "IfNotPresent",
                "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}],
                "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler"},
            "status": {"phase": "Running", "qosClass": "BestEffort"}});
        let json = serde_json::to_vec(&pod).map(|b| b.len()).unwrap_or(0);
        let packed = pack(&pod).len();
        assert!(packed * 2 < json, "{packed} B packed vs {json} B of JSON");
    }

    #[test]
    fn shared_bytes_read_one_after_another_decode_once() {
        let a = pack(&json!({"metadata": {"name": "a"}}));
        let b = pack(&json!({"metadata": {"name": "b"}}));
        let c = pack(&json!({"metadata": {"name": "c"}}));
        let first = unpack_shared(&a).unwrap();
        assert_eq!(*first, json!({"metadata": {"name": "a"}}));
        assert!(Arc::ptr_eq(&first, &unpack_shared(&a).unwrap()));
        // Equal bytes in another allocation are another object's.
        let a2: Arc<[u8]> = a.to_vec().into();
        let other = unpack_shared(&a2).unwrap();
        assert!(!Arc::ptr_eq(&first, &other));
        assert_eq!(other, first);
        let tb = unpack_shared(&b).unwrap();
        let tc = unpack_shared(&c).unwrap();
        assert_eq!(
            (
                tb["metadata"]["name"].as_str(),
                tc["metadata"]["name"].as_str()
            ),
            (Some("b"), Some("c"))
        );
        // Two kept: `a` was let go and decodes anew, to the same content.
        let again = unpack_shared(&a).unwrap();
        assert!(!Arc::ptr_eq(&first, &again));
        assert_eq!(again, first);
        let bad: Arc<[u8]> = vec![OBJECT, 5].into();
        assert!(unpack_shared(&bad).is_err());
    }

    #[test]
    fn corrupt_input_is_an_error_not_a_panic() {
        let good = pack(&json!({"metadata": {"name": "a"}, "items": [1, 2.5, "x"]}));
        // Every truncation and every single-byte change decodes or fails
        // cleanly.
        for n in 0..good.len() {
            assert!(unpack(&good[..n]).is_err(), "truncated at {n}");
        }
        for i in 0..good.len() {
            for b in [0u8, 0x7f, 0x80, 0xff] {
                let mut bad = good.to_vec();
                bad[i] = b;
                let _ = unpack(&bad);
            }
        }
        assert_eq!(unpack(&[99]), Err(UnpackError("unknown tag")));
        assert!(
            unpack(&[ARRAY, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_err(),
            "huge length"
        );
        assert!(unpack(&[STR, 2, 0xc3, 0x28]).is_err(), "bad UTF-8");
        assert!(unpack(&[KNOWN, 120]).is_err(), "no such table entry");
        let mut deep = [ARRAY, 1].repeat(MAX_DEPTH + 2);
        deep.push(NULL);
        assert_eq!(unpack(&deep), Err(UnpackError("nested too deeply")));
        assert_eq!(unpack(&[NULL, NULL]), Err(UnpackError("trailing bytes")));
    }
}
