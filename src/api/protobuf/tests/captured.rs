//! Real request bodies: each pair is what kubectl 1.33 POSTs as protobuf and what kubectl 1.31
//! POSTs as JSON for the same command (captured from a logging stub server), so decoding the first
//! must give the second.
//!
//! Commands: `create deployment web --image=nginx --replicas=0`, `create configmap x
//! --from-literal=a=b`, `create secret generic s --from-file=bin=<00 01 ff> --from-literal=u=admin`,
//! `auth can-i create pods`, `auth can-i --list`, `auth whoami`, `create job j --image=busybox --
//! sleep 5`, `create cronjob cj --image=busybox --schedule='*/1 * * * *'`, `create role r --verb=get
//! --resource=pods`, `create rolebinding rb --role=r --user=bob`, `create service clusterip svc
//! --tcp=80:8080`, `create namespace ns1`, `create priorityclass pc --value=0`, `create
//! serviceaccount sa`, `create quota q --hard=pods=2,requests.cpu=100m`.

pub const DEPLOYMENT: (&[u8], &str) = (
    b"k8s\x00\x0a\x15\x0a\x07apps/v1\x12\x0aDeployment\x12\xab\x01\x0a\x1f\x0a\x03web\x12\x00\x1a\x00\x22\x00*\x002\x008\x00B\x00Z\x0a\x0a\x03app\x12\x03web\x12z\x08\x00\x12\x0c\x0a\x0a\x0a\x03app\x12\x03web\x1a`\x0a\x1c\x0a\x00\x12\x00\x1a\x00\x22\x00*\x002\x008\x00B\x00Z\x0a\x0a\x03app\x12\x03web\x12@\x12\x22\x0a\x05nginx\x12\x05nginx*\x00B\x00j\x00r\x00\x80\x01\x00\x88\x01\x00\x90\x01\x00\xa2\x01\x00\x1a\x002\x00B\x00J\x00R\x00X\x00`\x00h\x00\x82\x01\x00\x8a\x01\x00\x9a\x01\x00\xc2\x01\x00\x22\x02\x0a\x00(\x008\x00\x1a\x0c\x08\x00\x10\x00\x18\x00 \x00(\x008\x00\x1a\x00\x22\x00",
    r#"{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web","creationTimestamp":null,"labels":{"app":"web"}},"spec":{"replicas":0,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"creationTimestamp":null,"labels":{"app":"web"}},"spec":{"containers":[{"name":"nginx","image":"nginx","resources":{}}]}},"strategy":{}},"status":{}}
"#,
);
pub const CONFIGMAP: (&[u8], &str) = (
    b"k8s\x00\x0a\x0f\x0a\x02v1\x12\x09ConfigMap\x12\x1b\x0a\x11\x0a\x01x\x12\x00\x1a\x00\x22\x00*\x002\x008\x00B\x00\x12\x06\x0a\x01a\x12\x01b\x1a\x00\x22\x00",
    r#"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x","creationTimestamp":null},"data":{"a":"b"}}
"#,
);
pub const SECRET: (&[u8], &str) = (
    b"k8s\x00\x0a\x0c\x0a\x02v1\x12\x06Secret\x12-\x0a\x11\x0a\x01s\x12\x00\x1a\x00\x22\x00*\x002\x008\x00B\x00\x12\x0a\x0a\x03bin\x12\x03\x00\x01\xff\x12\x0a\x0a\x01u\x12\x05admin\x1a\x00\x1a\x00\x22\x00",
    r#"{"kind":"Secret","apiVersion":"v1","metadata":{"name":"s","creationTimestamp":null},"data":{"bin":"AAH/","u":"YWRtaW4="}}
"#,
);
pub const SSAR: (&[u8], &str) = (
    b"k8s\x00\x0a2\x0a\x17authorization.k8s.io/v1\x12\x17SelfSubjectAccessReview\x12?\x0a\x10\x0a\x00\x12\x00\x1a\x00\x22\x00*\x002\x008\x00B\x00\x12!\x0a\x1f\x0a\x07default\x12\x06create\x1a\x00\x22\x00*\x04pods2\x00:\x00\x1a\x08\x08\x00\x12\x00\x1a\x00 \x00\x1a\x00\x22\x00",
    r#"{"kind":"SelfSubjectAccessReview","apiVersion":"authorization.k8s.io/v1","metadata":{"creationTimestamp":null},"spec":{"resourceAttributes":{"namespace":"default","verb":"create","resource":"pods"}},"status":{"allowed":false}}
"#,
);
pub const SSRR: (&[u8], &str) = (
    b"k8s\x00\x0a1\x0a\x17authorization.k8s.io/v1\x12\x16SelfSubjectRulesReview\x12#\x0a\x10\x0a\x00\x12\x00\x1a\x00\x22\x00*\x002\x008\x00B\x00\x12\x09\x0a\x07default\x1a\x04\x18\x00\x22\x00\x1a\x00\x22\x00",
    r#"{"kind":"SelfSubjectRulesReview","apiVersion":"authorization.k8s.io/v1","metadata":{"creationTimestamp":null},"spec":{"namespace":"default"},"status":{"resourceRules":null,"nonResourceRules":null,"incomplete":false}}
"#,
);
pub const SELF_SUBJECT_REVIEW: (&[u8], &str) = (
    b"k8s\x00\x0a-\x0a\x18authentication.k8s.io/v1\x12\x11SelfSubjectReview\x12\x1a\x0a\x10\x0a\x00\x12\x00\x1a\x00\x22\x00*\x002\x008\x00B\x00\x12\x06\x0a\x04\x0a\x00\x12\x00\x1a\x00\x22\x00",
    r#"{"kind":"SelfSubjectReview","apiVersion":"authentication.k8s.io/v1","metadata":{"creationTimestamp":null},"status":{"userInfo":{}}}
"#,
);
pub const JOB: (&[u8], &str) = (
    b"k8s\x00\x0a\x0f\x0a\x08batch/v1\x12\x03Job\x12\x82\x01\x0a\x11\x0a\x01j\x12\x00\x1a\x00\x22\x00*\x002\x008\x00B\x00\x12c2a\x0a\x10\x0a\x00\x12\x00\x1a\x00\x22\x00*\x002\x008\x00B\x00\x12M\x12*\x0a\x01j\x12\x07busybox\x1a\x05sleep\x1a\x015*\x00B\x00j\x00r\x00\x80\x01\x00\x88\x01\x00\x90\x01\x00\xa2\x01\x00\x1a\x05Never2\x00B\x00J\x00R\x00X\x00`\x00h\x00\x82\x01\x00\x8a\x01\x00\x9a\x01\x00\xc2\x01\x00\x1a\x08 \x00(\x000\x00:\x00\x1a\x00\x22\x00",
    r#"{"kind":"Job","apiVersion":"batch/v1","metadata":{"name":"j","creationTimestamp":null},"spec":{"template":{"metadata":{"creationTimestamp":null},"spec":{"containers":[{"name":"j","image":"busybox","command":["sleep","5"],"resources":{}}],"restartPolicy":"Never"}}},"status":{}}
"#,
);
pub const CRONJOB: (&[u8], &str) = (
    b"k8s\x00\x0a\x13\x0a\x08batch/v1\x12\x07CronJob\x12\x9e\x01\x0a\x12\x0a\x02cj\x12\x00\x1a\x00\x22\x00*\x002\x008\x00B\x00\x12\x85\x01\x0a\x0b*/1 * * * *\x1a\x00*t\x0a\x12\x0a\x02cj\x12\x00\x1a\x00\x22\x00*\x002\x008\x00B\x00\x12^2\x5c\x0a\x10\x0a\x00\x12\x00\x1a\x00\x22\x00*\x002\x008\x00B\x00\x12H\x12!\x0a\x02cj\x12\x07busybox*\x00B\x00j\x00r\x00\x80\x01\x00\x88\x01\x00\x90\x01\x00\xa2\x01\x00\x1a\x09OnFailure2\x00B\x00J\x00R\x00X\x00`\x00h\x00\x82\x01\x00\x8a\x01\x00\x9a\x01\x00\xc2\x01\x00\x1a\x00\x1a\x00\x22\x00",
    r#"{"kind":"CronJob","apiVersion":"batch/v1","metadata":{"name":"cj","creationTimestamp":null},"spec":{"schedule":"*/1 * * * *","jobTemplate":{"metadata":{"name":"cj","creationTimestamp":null},"spec":{"template":{"metadata":{"creationTimestamp":null},"spec":{"containers":[{"name":"cj","image":"busybox","resources":{}}],"restartPolicy":"OnFailure"}}}}},"status":{}}
"#,
);
pub const ROLE: (&[u8], &str) = (
    b"k8s\x00\x0a$\x0a\x1crbac.authorization.k8s.io/v1\x12\x04Role\x12\x22\x0a\x11\x0a\x01r\x12\x00\x1a\x00\x22\x00*\x002\x008\x00B\x00\x12\x0d\x0a\x03get\x12\x00\x1a\x04pods\x1a\x00\x22\x00",
    r#"{"kind":"Role","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"r","creationTimestamp":null},"rules":[{"verbs":["get"],"apiGroups":[""],"resources":["pods"]}]}
"#,
);
pub const ROLEBINDING: (&[u8], &str) = (
    b"k8s\x00\x0a+\x0a\x1crbac.authorization.k8s.io/v1\x12\x0bRoleBinding\x12d\x0a\x12\x0a\x02rb\x12\x00\x1a\x00\x22\x00*\x002\x008\x00B\x00\x12(\x0a\x04User\x12\x19rbac.authorization.k8s.io\x1a\x03bob\x22\x00\x1a$\x0a\x19rbac.authorization.k8s.io\x12\x04Role\x1a\x01r\x1a\x00\x22\x00",
    r#"{"kind":"RoleBinding","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"rb","creationTimestamp":null},"subjects":[{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"bob"}],"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"r"}}
"#,
);
pub const SERVICE: (&[u8], &str) = (
    b"k8s\x00\x0a\x0d\x0a\x02v1\x12\x07Service\x12i\x0a\x1f\x0a\x03svc\x12\x00\x1a\x00\x22\x00*\x002\x008\x00B\x00Z\x0a\x0a\x03app\x12\x03svc\x12B\x0a\x1b\x0a\x0780-8080\x12\x03TCP\x18P\x22\x07\x08\x00\x10\x90?\x1a\x00(\x00\x12\x0a\x0a\x03app\x12\x03svc\x1a\x00\x22\x09ClusterIP:\x00B\x00R\x00Z\x00`\x00h\x00\x1a\x02\x0a\x00\x1a\x00\x22\x00",
    r#"{"kind":"Service","apiVersion":"v1","metadata":{"name":"svc","creationTimestamp":null,"labels":{"app":"svc"}},"spec":{"ports":[{"name":"80-8080","protocol":"TCP","port":80,"targetPort":8080}],"selector":{"app":"svc"},"type":"ClusterIP"},"status":{"loadBalancer":{}}}
"#,
);
pub const NAMESPACE: (&[u8], &str) = (
    b"k8s\x00\x0a\x0f\x0a\x02v1\x12\x09Namespace\x12\x1b\x0a\x13\x0a\x03ns1\x12\x00\x1a\x00\x22\x00*\x002\x008\x00B\x00\x12\x00\x1a\x02\x0a\x00\x1a\x00\x22\x00",
    r#"{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"ns1","creationTimestamp":null},"spec":{},"status":{}}
"#,
);
pub const PRIORITYCLASS: (&[u8], &str) = (
    b"k8s\x00\x0a%\x0a\x14scheduling.k8s.io/v1\x12\x0dPriorityClass\x120\x0a\x12\x0a\x02pc\x12\x00\x1a\x00\x22\x00*\x002\x008\x00B\x00\x10\x00\x18\x00\x22\x00*\x14PreemptLowerPriority\x1a\x00\x22\x00",
    r#"{"kind":"PriorityClass","apiVersion":"scheduling.k8s.io/v1","metadata":{"name":"pc","creationTimestamp":null},"value":0,"preemptionPolicy":"PreemptLowerPriority"}
"#,
);
pub const SERVICEACCOUNT: (&[u8], &str) = (
    b"k8s\x00\x0a\x14\x0a\x02v1\x12\x0eServiceAccount\x12\x14\x0a\x12\x0a\x02sa\x12\x00\x1a\x00\x22\x00*\x002\x008\x00B\x00\x1a\x00\x22\x00",
    r#"{"kind":"ServiceAccount","apiVersion":"v1","metadata":{"name":"sa","creationTimestamp":null}}
"#,
);
pub const QUOTA: (&[u8], &str) = (
    b"k8s\x00\x0a\x13\x0a\x02v1\x12\x0dResourceQuota\x12<\x0a\x11\x0a\x01q\x12\x00\x1a\x00\x22\x00*\x002\x008\x00B\x00\x12%\x0a\x0b\x0a\x04pods\x12\x03\x0a\x012\x0a\x16\x0a\x0crequests.cpu\x12\x06\x0a\x04100m\x1a\x00\x1a\x00\x22\x00",
    r#"{"kind":"ResourceQuota","apiVersion":"v1","metadata":{"name":"q","creationTimestamp":null},"spec":{"hard":{"pods":"2","requests.cpu":"100m"}},"status":{}}
"#,
);
