//! Parses a request path into what it names, as the apiserver's
//! `RequestInfoFactory` does (`apiserver/pkg/endpoints/request/requestinfo.go`).

/// What a resource request is about.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestInfo {
    pub is_resource: bool,
    pub verb: String,
    pub group: String,
    pub version: String,
    pub namespace: String,
    pub resource: String,
    pub name: String,
    pub subresource: String,
    pub path: String,
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Percent-decodes one path segment.
fn decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl RequestInfo {
    /// `method` is the HTTP method, `watch` whether `watch=true` was asked.
    pub fn parse(method: &str, path: &str, watch: bool) -> Self {
        let mut info = RequestInfo {
            path: path.to_string(),
            verb: method.to_lowercase(),
            ..Default::default()
        };
        let parts: Vec<String> = path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .map(decode)
            .collect();
        let mut rest: &[String] = match parts.first().map(String::as_str) {
            Some("api") if parts.len() >= 2 => {
                info.version = parts[1].clone();
                &parts[2..]
            }
            Some("apis") if parts.len() >= 3 => {
                info.group = parts[1].clone();
                info.version = parts[2].clone();
                &parts[3..]
            }
            _ => return info,
        };
        if rest.is_empty() {
            return info;
        }
        info.is_resource = true;
        if rest[0] == "namespaces" && rest.len() > 1 {
            info.namespace = rest[1].clone();
            if rest.len() > 2 && rest[2] != "status" && rest[2] != "finalize" {
                rest = &rest[2..];
            }
        }
        info.resource = rest[0].clone();
        if rest.len() > 1 {
            info.name = rest[1].clone();
        }
        if rest.len() > 2 {
            info.subresource = rest[2..].join("/");
        }
        if info.resource == "namespaces" {
            info.namespace = String::new();
        }
        info.verb = match method {
            "GET" | "HEAD" if watch => "watch",
            "GET" | "HEAD" if info.name.is_empty() => "list",
            "GET" | "HEAD" => "get",
            "POST" => "create",
            "PUT" => "update",
            "PATCH" => "patch",
            "DELETE" if info.name.is_empty() => "deletecollection",
            "DELETE" => "delete",
            other => {
                return RequestInfo {
                    verb: other.to_lowercase(),
                    ..info
                };
            }
        }
        .to_string();
        info
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_namespaced_and_cluster_paths() {
        let r = RequestInfo::parse(
            "GET",
            "/apis/apps/v1/namespaces/default/deployments/web/scale",
            false,
        );
        assert_eq!(
            (
                r.group.as_str(),
                r.namespace.as_str(),
                r.resource.as_str(),
                r.name.as_str(),
                r.subresource.as_str()
            ),
            ("apps", "default", "deployments", "web", "scale")
        );
        assert_eq!(r.verb, "get");
        let r = RequestInfo::parse("GET", "/api/v1/namespaces/kube-system", false);
        assert_eq!(
            (r.resource.as_str(), r.name.as_str(), r.namespace.as_str()),
            ("namespaces", "kube-system", "")
        );
        let r = RequestInfo::parse("PUT", "/api/v1/namespaces/x/finalize", false);
        assert_eq!(
            (r.resource.as_str(), r.name.as_str(), r.subresource.as_str()),
            ("namespaces", "x", "finalize")
        );
        let r = RequestInfo::parse("GET", "/api/v1/pods", true);
        assert_eq!((r.resource.as_str(), r.verb.as_str()), ("pods", "watch"));
        let r = RequestInfo::parse("DELETE", "/api/v1/namespaces/d/configmaps", false);
        assert_eq!(r.verb, "deletecollection");
    }
}
