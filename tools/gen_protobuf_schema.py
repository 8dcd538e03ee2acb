#!/usr/bin/env python3
"""Generate src/api/protobuf/schema.rs: the field table for Kubernetes protobuf bodies.

Inputs (both already in the cargo registry after `cargo fetch`, nothing is vendored):
  * k8s-pb 0.9 (prost types generated from k8s.io/api */generated.proto): message names,
    field numbers, wire kinds, nested message types.
  * k8s-openapi 0.29 (generated from the OpenAPI spec): JSON field names (the Go json tags),
    which fields are required (non-omitempty), and the (apiVersion, kind) of every resource.
Go pointer-ness of scalar fields is in neither; POINTER below lists the scalar fields whose zero
value must be kept (Go `*int32`, `*bool`, `*string` ... in k8s.io/api */types.go).

k8s-pb is not a dependency of the main crate: to have its source, `cargo fetch` any scratch crate
that depends on `k8s-pb = "0.9"`. Bump the version constants below when moving to newer crates.

Usage: python3 gen_schema.py > src/api/protobuf/schema.rs   (prints a summary on stderr)
"""
import glob
import os
import re
import sys

REG = glob.glob(os.path.expanduser("~/.cargo/registry/src/*/"))[0]
PB = REG + "k8s-pb-0.9.0/src/"
OA = REG + "k8s-openapi-0.29.0/src/"
OA_VERSIONS = ["v1_37", "v1_36", "v1_35", "v1_34", "v1_33"]
PB_ROOTS = ["api", "apimachinery", "kube_aggregator"]
SKIP_MODULES = ("apimachinery/pkg/apis/testapigroup",)

# Scalar fields that are Go pointers (types.go), so a zero value on the wire is meaningful.
POINTER = {
    "ObjectMeta": ["deletionGracePeriodSeconds"],
    "OwnerReference": ["controller", "blockOwnerDeletion"],
    "ListMeta": ["remainingItemCount"],
    "DeleteOptions": ["gracePeriodSeconds", "orphanDependents", "propagationPolicy",
                      "ignoreStoreReadErrorWithClusterBreakingPotential"],
    "DeploymentSpec": ["replicas", "revisionHistoryLimit", "progressDeadlineSeconds"],
    "DeploymentStatus": ["terminatingReplicas"],
    "ReplicaSetSpec": ["replicas"],
    "ReplicaSetStatus": ["terminatingReplicas"],
    "StatefulSetSpec": ["replicas", "revisionHistoryLimit"],
    "RollingUpdateStatefulSetStrategy": ["partition"],
    "DaemonSetSpec": ["revisionHistoryLimit"],
    "DaemonSetStatus": ["collisionCount"],
    "HorizontalPodAutoscalerSpec": ["minReplicas", "targetCPUUtilizationPercentage"],
    "HorizontalPodAutoscalerStatus": ["observedGeneration", "currentCPUUtilizationPercentage"],
    "HPAScalingRules": ["stabilizationWindowSeconds", "selectPolicy"],
    "MetricTarget": ["averageUtilization"],
    "MetricValueStatus": ["averageUtilization"],
    "JobSpec": ["parallelism", "completions", "activeDeadlineSeconds", "backoffLimit",
                "backoffLimitPerIndex", "maxFailedIndexes", "ttlSecondsAfterFinished", "suspend",
                "manualSelector", "completionMode", "podReplacementPolicy", "managedBy"],
    "JobStatus": ["ready", "terminating", "failedIndexes"],
    "CronJobSpec": ["startingDeadlineSeconds", "suspend", "successfulJobsHistoryLimit",
                    "failedJobsHistoryLimit", "timeZone"],
    "PodFailurePolicyOnExitCodesRequirement": ["containerName"],
    "SuccessPolicyRule": ["succeededIndexes", "succeededCount"],
    "PodSpec": ["terminationGracePeriodSeconds", "activeDeadlineSeconds",
                "automountServiceAccountToken", "shareProcessNamespace", "priority",
                "enableServiceLinks", "preemptionPolicy", "runtimeClassName",
                "setHostnameAsFQDN", "hostUsers", "hostnameOverride"],
    "PodSecurityContext": ["runAsUser", "runAsGroup", "runAsNonRoot", "fsGroup",
                           "fsGroupChangePolicy", "supplementalGroupsPolicy",
                           "seLinuxChangePolicy"],
    "SecurityContext": ["privileged", "runAsUser", "runAsGroup", "runAsNonRoot",
                        "readOnlyRootFilesystem", "allowPrivilegeEscalation", "procMount"],
    "WindowsSecurityContextOptions": ["gmsaCredentialSpecName", "gmsaCredentialSpec",
                                      "runAsUserName", "hostProcess"],
    "SeccompProfile": ["localhostProfile"],
    "AppArmorProfile": ["localhostProfile"],
    "Container": ["restartPolicy"],
    "EphemeralContainerCommon": ["restartPolicy"],
    "Probe": ["terminationGracePeriodSeconds"],
    "GRPCAction": ["service"],
    "ConfigMapKeySelector": ["optional"],
    "SecretKeySelector": ["optional"],
    "ConfigMapEnvSource": ["optional"],
    "SecretEnvSource": ["optional"],
    "ConfigMapVolumeSource": ["defaultMode", "optional"],
    "SecretVolumeSource": ["defaultMode", "optional"],
    "ProjectedVolumeSource": ["defaultMode"],
    "DownwardAPIVolumeSource": ["defaultMode"],
    "DownwardAPIVolumeFile": ["mode"],
    "KeyToPath": ["mode"],
    "ConfigMapProjection": ["optional"],
    "SecretProjection": ["optional"],
    "ServiceAccountTokenProjection": ["expirationSeconds"],
    "ClusterTrustBundleProjection": ["name", "signerName", "optional"],
    "CSIVolumeSource": ["readOnly", "fsType"],
    "HostPathVolumeSource": ["type"],
    "PersistentVolumeClaimSpec": ["storageClassName", "volumeMode", "volumeAttributesClassName"],
    "PersistentVolumeSpec": ["volumeMode", "volumeAttributesClassName"],
    "VolumeMount": ["mountPropagation", "recursiveReadOnly"],
    "PodResourceClaim": ["resourceClaimName", "resourceClaimTemplateName"],
    "PodDNSConfigOption": ["value"],
    "TopologySpreadConstraint": ["minDomains", "nodeAffinityPolicy", "nodeTaintsPolicy"],
    "Toleration": ["tolerationSeconds"],
    "TypedLocalObjectReference": ["apiGroup"],
    "TypedObjectReference": ["apiGroup", "namespace"],
    "ServiceSpec": ["ipFamilyPolicy", "allocateLoadBalancerNodePorts", "loadBalancerClass",
                    "internalTrafficPolicy", "trafficDistribution"],
    "ServicePort": ["appProtocol"],
    "ClientIPConfig": ["timeoutSeconds"],
    "LoadBalancerIngress": ["ipMode"],
    "ConfigMap": ["immutable"],
    "Secret": ["immutable"],
    "ServiceAccount": ["automountServiceAccountToken"],
    "TokenRequestSpec": ["expirationSeconds"],
    "CertificateSigningRequestSpec": ["expirationSeconds"],
    "PodDisruptionBudgetSpec": ["unhealthyPodEvictionPolicy"],
    "PriorityClass": ["preemptionPolicy"],
    "IngressSpec": ["ingressClassName"],
    "HTTPIngressPath": ["pathType"],
    "NetworkPolicyPort": ["protocol", "endPort"],
    "IngressClassParametersReference": ["apiGroup", "scope", "namespace"],
    "StorageClass": ["reclaimPolicy", "allowVolumeExpansion", "volumeBindingMode"],
    "LeaseSpec": ["holderIdentity", "leaseDurationSeconds", "leaseTransitions",
                  "preferredHolder", "strategy"],
    "EndpointConditions": ["ready", "serving", "terminating"],
    "Endpoint": ["hostname", "nodeName", "zone"],
    "EndpointPort": ["name", "protocol", "port", "appProtocol"],
}

# Go structs that only appear embedded (`json:",inline"`) have no OpenAPI definition of their own.
ALIAS = {"EphemeralContainerCommon": "Container"}

# Messages with their own JSON form (apimachinery marshalers).
SPECIAL = {
    "apimachinery/pkg/apis/meta/v1::Time": "Time",
    "apimachinery/pkg/apis/meta/v1::MicroTime": "MicroTime",
    "apimachinery/pkg/apis/meta/v1::FieldsV1": "RawJson",
    "apimachinery/pkg/apis/meta/v1::Verbs": "StrList",
    "apimachinery/pkg/runtime::RawExtension": "RawJson",
    "apimachinery/pkg/api/resource::Quantity": "Quantity",
    "apimachinery/pkg/util/intstr::IntOrString": "IntOrString",
}
# Named []string types (go-to-protobuf wraps them as `message X { repeated string items = 1; }`).
STRLIST_NAMES = {"ExtraValue"}

SCALARS = {"string": "Str", "int32": "I32", "int64": "I64", "bool": "Bool", "double": "F64",
           'bytes = "vec"': "Bytes"}


def upper_snake(s):
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    return s.upper()


def norm(s):
    return s.replace("_", "").lower()


def load_pb():
    msgs = {}  # "mod::Name" -> list of (tag, snake, attr, type)
    for root in PB_ROOTS:
        for path in glob.glob(PB + root + "/**/mod.rs", recursive=True):
            mod = os.path.dirname(os.path.relpath(path, PB))
            if mod.startswith(SKIP_MODULES):
                continue
            text = "\n".join(l for l in open(path).read().split("\n") if not l.strip().startswith("///"))
            for m in re.finditer(r"pub struct (\w+) \{(\}|.*?\n\})", text, re.S):
                body = " ".join(m.group(2).rstrip("}").split())
                fields = []
                for f in re.finditer(r"#\[prost\((.*?)\)\]\s*pub (?:r#)?(\w+):\s*(.*?),\s*(?=#\[prost|$)", body):
                    attr, snake, ty = f.groups()
                    tag = int(re.search(r'tag = "(\d+)"', attr).group(1))
                    fields.append((tag, snake, attr, ty))
                msgs[mod + "::" + m.group(1)] = fields
    return msgs


def load_openapi():
    types = {}  # "mod::lowername" -> dict(go=Name, fields={norm: (json, required)})
    kinds = []  # (apiVersion, kind, "mod::lowername")
    for ver in reversed(OA_VERSIONS):  # newest last, so it wins
        base = OA + ver + "/"
        for path in glob.glob(base + "**/*.rs", recursive=True):
            if path.endswith("mod.rs"):
                continue
            text = open(path).read()
            sm = re.search(r"^pub struct (\w+) \{(.*?)^\}", text, re.S | re.M)
            if not sm:
                continue
            mod = os.path.dirname(os.path.relpath(path, base))
            key = mod + "::" + sm.group(1).lower()
            req = {}
            for f in re.finditer(r"^    pub (?:r#)?(\w+): (.*),$", sm.group(2), re.M):
                req[f.group(1)] = not f.group(2).startswith("Option<")
            # A field required in any release is a Go field without omitempty (tags rarely change,
            # the OpenAPI "required" marking sometimes does).
            older = types.get(mod + "::" + sm.group(1).lower(), {"fields": {}})["fields"]
            fields = {}
            for j in re.finditer(r'"([A-Za-z0-9$_-]+)" => Field::Key_(\w+),', text):
                was = older.get(norm(j.group(2)), ("", False))[1]
                fields[norm(j.group(2))] = (j.group(1), req.get(j.group(2), False) or was)
            types[key] = {"go": sm.group(1), "fields": fields}
            av = re.search(r'const API_VERSION: &\'static str = "([^"]+)";', text)
            kd = re.search(r'const KIND: &\'static str = "([^"]+)";', text)
            if av and kd and "impl crate::Resource for" in text:
                kinds.append((av.group(1), kd.group(1), key))
    return types, kinds


def resolve(mod, ty):
    """Resolve a prost type path (relative with super::) to "mod::Name"."""
    inner = ty
    for wrapper in ("::core::option::Option<", "::prost::alloc::vec::Vec<"):
        if inner.startswith(wrapper):
            inner = inner[len(wrapper):-1]
    if inner.startswith("::prost::alloc::collections::BTreeMap<"):
        inner = inner[len("::prost::alloc::collections::BTreeMap<"):-1].split(",", 1)[1].strip()
    inner = inner.replace(" ", "").rstrip(",")
    parts = inner.split("::")
    here = mod.split("/")
    while parts and parts[0] == "super":
        here.pop()
        parts.pop(0)
    return "/".join(here + parts[:-1]) + "::" + parts[-1]


def main():
    pb = load_pb()
    types, kinds = load_openapi()
    fallbacks = []
    global_names = {n: j for t in types.values() for n, (j, _) in t["fields"].items()}
    used_ptr = set()

    def oa(msg):
        mod, name = msg.split("::")
        return types.get(mod + "::" + name.lower()) or types.get(mod + "::" + ALIAS.get(name, "").lower())

    def kind_of(msg, attr, ty, mod):
        if attr.startswith("message"):
            target = resolve(mod, ty)
            return ("msg", target)
        for k, v in SCALARS.items():
            if attr.startswith(k + ","):
                return ("scalar", v)
        if attr.startswith("btree_map"):
            vt = re.search(r'btree_map = "string, (\w+)"', attr).group(1)
            if vt == "message":
                return ("map", resolve(mod, ty))
            return ("map", {"string": "Str", "bytes": "Bytes"}[vt])
        raise SystemExit(f"unknown prost attr {attr} in {msg}")

    def covered(target, names, mod):
        """Whether all fields of `target` (recursing into embedded structs) are JSON fields of `names`."""
        if target not in pb:
            return False
        return all(norm(s2) in names or (a.startswith("message") and covered(resolve(mod, t), names, mod))
                   for _, s2, a, t in pb[target])

    def value_kind(target):
        """Kind expression for a message-typed value."""
        if target in SPECIAL:
            return SPECIAL[target]
        if target.split("::")[1] in STRLIST_NAMES:
            return "StrList"
        return "Msg(&" + static_name(target) + ")"

    def static_name(msg):
        mod, name = msg.split("::")
        parts = mod.split("/")
        prefix = "_".join(p.upper() for p in parts[-2:])
        return prefix + "_" + upper_snake(name)

    roots = []
    top = []
    oa_to_pb = {}
    for k in pb:
        mod, name = k.split("::")
        oa_to_pb[mod + "::" + name.lower()] = k
    for av, kd, key in sorted(set(kinds)):
        if key in oa_to_pb:
            top.append((av, kd, oa_to_pb[key]))
            roots.append(oa_to_pb[key])
    roots.append("apimachinery/pkg/apis/meta/v1::DeleteOptions")

    order, seen = [], set()
    stack = list(roots)
    while stack:
        msg = stack.pop()
        if msg in seen or msg in SPECIAL or msg.split("::")[1] in STRLIST_NAMES:
            continue
        if msg not in pb:
            raise SystemExit(f"missing message {msg}")
        seen.add(msg)
        order.append(msg)
        mod = msg.split("::")[0]
        for tag, snake, attr, ty in pb[msg]:
            kind, target = kind_of(msg, attr, ty, mod)
            if kind in ("msg", "map") and "::" in target:
                stack.append(target)

    out = []
    w = out.append
    w("//! Generated field table for Kubernetes protobuf bodies: message -> (field number, JSON name,")
    w("//! kind, cardinality). Do not edit by hand: regenerate with `gen_schema.py` (see its docstring).")
    w("//! Upstream truth: k8s.io/api `*/generated.proto` (numbers, kinds) via the k8s-pb 0.9 crate,")
    w("//! JSON names and required fields via k8s-openapi 0.29, pointer scalars from `*/types.go`.")
    w("#![allow(clippy::all)]")
    w("use super::table::{Card::*, Field as F, Kind::*, Message as M};")
    w("")
    for msg in sorted(order, key=static_name):
        mod, name = msg.split("::")
        info = oa(msg)
        go = info["go"] if info and name not in ALIAS else name
        ptr = set(POINTER.get(go, []))
        fields = []
        for tag, snake, attr, ty in sorted(pb[msg]):
            kind, target = kind_of(msg, attr, ty, mod)
            if info and norm(snake) in info["fields"]:
                jname, required = info["fields"][norm(snake)]
            elif info and kind == "msg" and covered(target, info["fields"], target.split("::")[0]):
                jname, required = "", False  # embedded Go struct: its fields are inlined
            elif norm(snake) in global_names:
                jname, required = global_names[norm(snake)], False
            else:
                parts = snake.split("_")
                jname, required = parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:]), False
                fallbacks.append(f"{msg}.{snake}")
            repeated = ", repeated" in attr or kind == "map"
            if kind == "scalar":
                k = target
            elif kind == "msg":
                k = value_kind(target)
            else:
                k = "Map(&" + (value_kind(target) if "::" in target else target) + ")"
            card = "Rep" if repeated else ("Keep" if (jname in ptr or required) else "One")
            if not jname:
                card = "Inline"
            ptr.discard(jname)
            fields.append(f'F({tag}, "{jname}", {k}, {card})')
        used_ptr.update((go, j) for j in set(POINTER.get(go, [])) - ptr)
        w(f'pub(super) static {static_name(msg)}: M = M("{go}", &[{", ".join(fields)}]);')
    w("")
    w("/// (apiVersion, kind) of every top-level object, sorted for binary search.")
    w("pub(super) static KINDS: &[(&str, &str, &M)] = &[")
    for av, kd, msg in sorted(top):
        w(f'    ("{av}", "{kd}", &{static_name(msg)}),')
    w("];")
    print("\n".join(out))
    unused = [(g, j) for g, js in POINTER.items() for j in js if (g, j) not in used_ptr]
    print(f"messages: {len(order)}, kinds: {len(top)}, name fallbacks: {len(fallbacks)} {fallbacks}",
          f"unused POINTER entries: {unused}", file=sys.stderr)


main()
