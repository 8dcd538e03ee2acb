//! The image catalog: which repositories and tags exist, their sizes and
//! digests, which repositories are private, and the error containerd reports
//! when a pull fails (`rpc error: code = NotFound desc = failed to pull and
//! unpack image ...`), in containerd 2.x's wording as kind nodes show it.

use super::AppBehaviour;
use std::collections::BTreeMap;

/// A parsed image reference, normalised as containerd normalises it
/// (`nginx` → `docker.io/library/nginx:latest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// What the pod spec says.
    pub original: String,
    /// `docker.io`, `registry.k8s.io`, ...
    pub registry: String,
    /// Path inside the registry (`library/nginx`).
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parses an image reference; `Err` carries the kubelet's
    /// `InvalidImageName` message. The last reference parsed is kept (per
    /// thread): a Deployment's pods all run the same image, and each
    /// container start reads it twice (its behaviour, its pull).
    pub fn parse(image: &str) -> Result<Self, String> {
        thread_local! {
            static LAST: std::cell::RefCell<Option<ImageRef>> =
                const { std::cell::RefCell::new(None) };
        }
        LAST.with_borrow_mut(|last| match last {
            Some(r) if r.original == image => Ok(r.clone()),
            _ => {
                let r = Self::parse_anew(image)?;
                *last = Some(r.clone());
                Ok(r)
            }
        })
    }

    fn parse_anew(image: &str) -> Result<Self, String> {
        let bad = |why: &str| {
            Err(format!(
                "Failed to apply default image tag \"{image}\": couldn't parse image name \"{image}\": invalid reference format{why}"
            ))
        };
        if image.is_empty()
            || image.len() > 4096
            || image.chars().any(|c| c.is_whitespace() || c.is_control())
            || image.ends_with(':')
            || image.ends_with('/')
            || image.starts_with('/')
            || image.contains("//")
        {
            return bad("");
        }
        let (rest, digest) = match image.split_once('@') {
            Some((r, d)) => (r, Some(d.to_string())),
            None => (image, None),
        };
        let (name, tag) = match rest.rfind(':') {
            Some(i) if !rest[i + 1..].contains('/') => {
                (&rest[..i], Some(rest[i + 1..].to_string()))
            }
            _ => (rest, None),
        };
        let mut parts: Vec<&str> = name.split('/').collect();
        let first = parts.first().copied().unwrap_or("");
        let registry = if parts.len() > 1
            && (first.contains('.') || first.contains(':') || first == "localhost")
        {
            parts.remove(0).to_string()
        } else {
            "docker.io".to_string()
        };
        let mut path = parts.join("/");
        if registry == "docker.io" && !path.contains('/') {
            path = format!("library/{path}");
        }
        if path.chars().any(|c| c.is_ascii_uppercase()) {
            return bad(&format!(": repository name ({path}) must be lowercase"));
        }
        let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(c);
        if path.is_empty() || !path.chars().all(ok) {
            return bad("");
        }
        if let Some(t) = &tag
            && (t.is_empty()
                || t.len() > 128
                || !t
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)))
        {
            return bad("");
        }
        Ok(Self {
            original: image.to_string(),
            registry,
            path,
            tag,
            digest,
        })
    }

    /// `docker.io/library/nginx`.
    pub fn repository(&self) -> String {
        let mut out = String::with_capacity(self.registry.len() + 1 + self.path.len());
        out.push_str(&self.registry);
        out.push('/');
        out.push_str(&self.path);
        out
    }

    /// The tag, `latest` when neither tag nor digest is given.
    pub fn tag_or_latest(&self) -> &str {
        match (&self.tag, &self.digest) {
            (Some(t), _) => t,
            (None, Some(_)) => "",
            (None, None) => "latest",
        }
    }

    /// The full reference containerd resolves (`docker.io/library/nginx:1.27`).
    /// (Built by pushes: a pod's sync asks for it several times, and
    /// `format!` cost more than the rest of the sync's string work.)
    pub fn full(&self) -> String {
        let mut out = self.repository();
        match (&self.tag, &self.digest) {
            (None, Some(d)) => {
                out.push('@');
                out.push_str(d);
            }
            (Some(t), Some(d)) => {
                out.push(':');
                out.push_str(t);
                out.push('@');
                out.push_str(d);
            }
            _ => {
                out.push(':');
                out.push_str(self.tag_or_latest());
            }
        }
        out
    }
}

/// A repository that needs credentials (declared by a scenario).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PrivateRepo {
    pub tags: Vec<String>,
    /// Credentials a pull secret must carry for this registry (None: any
    /// entry for the registry host will do).
    pub username: Option<String>,
    pub password: Option<String>,
    pub size: u64,
}

/// What the runtime knows about a pulled image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// `docker.io/library/nginx:1.27` (containerStatuses[].image).
    pub name: String,
    /// `docker.io/library/nginx@sha256:...` (containerStatuses[].imageID).
    pub image_id: String,
    /// Compressed size in bytes, as the Pulled event reports it.
    pub size: u64,
}

/// Why a pull failed: the message after `Failed to pull image "x": `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullError {
    pub message: String,
}

/// Known images plus what a scenario adds.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// repository (`docker.io/library/nginx`) → (tags, size in bytes).
    pub public: BTreeMap<String, (Vec<String>, u64)>,
    pub private: BTreeMap<String, PrivateRepo>,
    /// Behaviours for images a scenario declares, by repository.
    pub declared: BTreeMap<String, AppBehaviour>,
}

const PUBLIC: &[(&str, &[&str], u64)] = &[
    (
        "docker.io/library/busybox",
        &[
            "latest", "stable", "musl", "glibc", "uclibc", "1.35", "1.35.0", "1.36", "1.36.0",
            "1.36.1", "1.37", "1.37.0",
        ],
        2_156_518,
    ),
    (
        "docker.io/library/alpine",
        &[
            "latest", "edge", "3", "3.18", "3.19", "3.20", "3.21", "3.22", "3.18.12", "3.19.7",
            "3.20.6", "3.21.3", "3.22.0",
        ],
        3_653_068,
    ),
    (
        "docker.io/library/nginx",
        &[
            "latest",
            "stable",
            "mainline",
            "alpine",
            "alpine-slim",
            "stable-alpine",
            "mainline-alpine",
            "perl",
            "1",
            "1.24",
            "1.25",
            "1.25.5",
            "1.26",
            "1.26.3",
            "1.27",
            "1.27.0",
            "1.27.3",
            "1.27.4",
            "1.27.5",
            "1.28",
            "1.28.0",
            "1.29",
            "1.29.0",
            "1.25-alpine",
            "1.26-alpine",
            "1.27-alpine",
            "1.28-alpine",
            "1.29-alpine",
        ],
        72_099_410,
    ),
    (
        "docker.io/library/httpd",
        &[
            "latest",
            "alpine",
            "2",
            "2.4",
            "2.4.62",
            "2.4.63",
            "2.4.65",
            "2.4-alpine",
            "2-alpine",
        ],
        58_143_592,
    ),
    (
        "docker.io/library/redis",
        &[
            "latest",
            "alpine",
            "6",
            "6.2",
            "7",
            "7.0",
            "7.2",
            "7.4",
            "7.4.2",
            "8",
            "8.0",
            "7-alpine",
            "7.2-alpine",
            "7.4-alpine",
            "8-alpine",
        ],
        45_069_221,
    ),
    (
        "docker.io/library/postgres",
        &[
            "latest",
            "alpine",
            "13",
            "14",
            "15",
            "16",
            "17",
            "15-alpine",
            "16-alpine",
            "17-alpine",
            "16.4",
            "16.9",
            "17.5",
        ],
        158_527_441,
    ),
    (
        "docker.io/library/mysql",
        &[
            "latest", "lts", "8", "8.0", "8.4", "9", "9.3", "8.0.42", "8.4.5",
        ],
        235_103_417,
    ),
    (
        "docker.io/curlimages/curl",
        &[
            "latest", "8.16.0", "8.15.0", "8.14.1", "8.13.0", "8.12.1", "8.11.1", "8.10.1",
        ],
        10_143_918,
    ),
    ("docker.io/polinux/stress", &["latest", "1.0.4"], 4_058_386),
    (
        "docker.io/coredns/coredns",
        &["latest", "1.11.1", "1.11.3", "1.12.0", "1.12.1"],
        22_384_805,
    ),
    ("registry.k8s.io/busybox", &["latest", "1.27.2"], 1_144_547),
    (
        "registry.k8s.io/pause",
        &["3.8", "3.9", "3.10", "3.10.1"],
        320_368,
    ),
    (
        "registry.k8s.io/e2e-test-images/agnhost",
        &[
            "2.39", "2.40", "2.43", "2.45", "2.47", "2.48", "2.52", "2.53", "2.54",
        ],
        51_208_125,
    ),
    (
        "registry.k8s.io/coredns/coredns",
        &["v1.10.1", "v1.11.1", "v1.11.3", "v1.12.0", "v1.12.1"],
        22_384_805,
    ),
    (
        "registry.k8s.io/ingress-nginx/controller",
        &[
            "v1.10.1", "v1.11.2", "v1.11.3", "v1.11.5", "v1.12.0", "v1.12.1", "v1.12.2", "v1.12.3",
            "v1.13.0",
        ],
        111_409_540,
    ),
    (
        "registry.k8s.io/ingress-nginx/kube-webhook-certgen",
        &["v1.4.4", "v1.5.0", "v1.5.2", "v1.5.3", "v1.6.0"],
        30_183_742,
    ),
    (
        "registry.k8s.io/metrics-server/metrics-server",
        &["v0.7.1", "v0.7.2", "v0.8.0"],
        19_500_621,
    ),
    (
        "docker.io/bitnami/kubectl",
        &["latest", "1.33", "1.33.1", "1.32", "1.32.5", "1.31"],
        79_512_367,
    ),
    (
        "registry.k8s.io/kubectl",
        &["v1.31.9", "v1.32.5", "v1.33.0", "v1.33.1"],
        38_405_127,
    ),
    (
        "docker.io/rancher/kubectl",
        &["v1.31.9", "v1.32.5", "v1.33.1"],
        18_874_326,
    ),
    ("registry.k8s.io/kube-proxy", &["v1.33.1"], 30_816_543),
    ("registry.k8s.io/kube-apiserver", &["v1.33.1"], 30_071_307),
    (
        "registry.k8s.io/kube-controller-manager",
        &["v1.33.1"],
        27_646_507,
    ),
    ("registry.k8s.io/kube-scheduler", &["v1.33.1"], 21_785_428),
    (
        "registry.k8s.io/etcd",
        &["3.5.21-0", "3.5.16-0"],
        58_938_593,
    ),
    (
        "docker.io/kindest/kindnetd",
        &["v20250512-df8de77b"],
        44_375_501,
    ),
    (
        "docker.io/kindest/local-path-provisioner",
        &["v20250214-acbabc1a"],
        22_541_737,
    ),
    (
        "docker.io/kindest/local-path-helper",
        &["v20241212-8ac705d0"],
        3_084_671,
    ),
];

impl Default for Catalog {
    fn default() -> Self {
        let public = PUBLIC
            .iter()
            .map(|(repo, tags, size)| {
                (
                    repo.to_string(),
                    (tags.iter().map(|t| t.to_string()).collect(), *size),
                )
            })
            .collect();
        Self {
            public,
            private: BTreeMap::new(),
            declared: BTreeMap::new(),
        }
    }
}

/// FNV-1a, for stable fake digests.
pub fn fnv(s: &str, seed: u64) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A stable 64-hex-digit digest of `s`.
pub fn digest_hex(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(64);
    for i in 0..4u64 {
        let h = fnv(s, i.wrapping_mul(0x9e37_79b9));
        // Sixteen hex digits, most significant first (`{:016x}`).
        for shift in (0..16).rev() {
            out.push(char::from(HEX[((h >> (shift * 4)) & 0xf) as usize]));
        }
    }
    out
}

/// Credentials a pull secret holds for one registry host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub registry: String,
    pub username: String,
    pub password: String,
}

impl Catalog {
    /// Declares a private repository (`registry.example.com/team/api`).
    pub fn add_private(&mut self, repository: &str, repo: PrivateRepo) {
        let r = ImageRef::parse(repository)
            .map(|r| r.repository())
            .unwrap_or_else(|_| repository.to_string());
        self.private.insert(r, repo);
    }

    /// Declares a behaviour for a scenario's own image repository (public
    /// unless also declared private; its tags are `behaviour.tags`).
    pub fn declare(&mut self, repository: &str, behaviour: AppBehaviour) {
        let r = ImageRef::parse(repository)
            .map(|r| r.repository())
            .unwrap_or_else(|_| repository.to_string());
        if let Some(login) = &behaviour.private {
            self.private.insert(
                r.clone(),
                PrivateRepo {
                    tags: behaviour.tags.clone(),
                    username: Some(login.username.clone()),
                    password: Some(login.password.clone()),
                    size: behaviour.image_size,
                },
            );
        }
        self.declared.insert(r, behaviour);
    }

    /// Resolves a pull of `r` with the credentials from the pod's pull
    /// secrets: the image, or containerd's error.
    pub fn pull(&self, r: &ImageRef, creds: &[Credential]) -> Result<ImageInfo, PullError> {
        let repo = r.repository();
        let full = r.full();
        let tag = r.tag_or_latest().to_string();
        // Built by pushes: every container start pulls (or finds) its image.
        let info = |size: u64| {
            let mut tagged = String::with_capacity(repo.len() + 1 + tag.len());
            tagged.push_str(&repo);
            tagged.push(':');
            tagged.push_str(&tag);
            let digest = match r.digest.as_deref().and_then(|d| d.strip_prefix("sha256:")) {
                Some(d) => d.to_string(),
                None => digest_hex(&tagged),
            };
            let mut image_id = String::with_capacity(repo.len() + 8 + digest.len());
            image_id.push_str(&repo);
            image_id.push_str("@sha256:");
            image_id.push_str(&digest);
            ImageInfo {
                name: if r.digest.is_some() && r.tag.is_none() {
                    full.clone()
                } else {
                    tagged
                },
                image_id,
                size,
            }
        };
        let not_found = || PullError {
            message: format!(
                "rpc error: code = NotFound desc = failed to pull and unpack image \"{full}\": failed to resolve reference \"{full}\": {full}: not found"
            ),
        };
        let has_tag =
            |tags: &[String]| r.tag.is_none() && r.digest.is_some() || tags.contains(&tag);
        if let Some(p) = self.private.get(&repo) {
            let host = &r.registry;
            let ok = creds.iter().any(|c| {
                same_registry(&c.registry, host)
                    && p.username.as_ref().is_none_or(|u| *u == c.username)
                    && p.password.as_ref().is_none_or(|pw| *pw == c.password)
            });
            if !ok {
                return Err(self.unauthorized(r));
            }
            return if p.tags.is_empty() || has_tag(&p.tags) {
                Ok(info(p.size.max(1)))
            } else {
                Err(not_found())
            };
        }
        if let Some(b) = self.declared.get(&repo) {
            return if b.tags.is_empty() || has_tag(&b.tags) {
                Ok(info(b.image_size.max(1)))
            } else {
                Err(not_found())
            };
        }
        if let Some((tags, size)) = self.public.get(&repo) {
            return if has_tag(tags) {
                Ok(info(*size))
            } else {
                Err(not_found())
            };
        }
        // Unknown repository.
        match r.registry.as_str() {
            "docker.io" => Err(self.unauthorized(r)),
            "registry.k8s.io" | "quay.io" | "ghcr.io" | "gcr.io" | "public.ecr.aws"
            | "mcr.microsoft.com" => {
                if r.registry == "ghcr.io" {
                    Err(self.unauthorized(r))
                } else {
                    Err(not_found())
                }
            }
            host => Err(PullError {
                message: format!(
                    "rpc error: code = Unknown desc = failed to pull and unpack image \"{full}\": failed to resolve reference \"{full}\": failed to do request: Head \"https://{host}/v2/{}/manifests/{}\": dial tcp: lookup {} on 172.18.0.1:53: no such host",
                    r.path,
                    r.digest.clone().unwrap_or(tag),
                    host.split(':').next().unwrap_or(host)
                ),
            }),
        }
    }

    /// The error a registry gives an unauthenticated (or wrongly
    /// authenticated) pull: Docker Hub says "pull access denied", other
    /// registries answer 401 to the manifest request.
    fn unauthorized(&self, r: &ImageRef) -> PullError {
        let full = r.full();
        let reference = r
            .digest
            .clone()
            .unwrap_or_else(|| r.tag_or_latest().to_string());
        let detail = match r.registry.as_str() {
            "docker.io" => "pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed".to_string(),
            "ghcr.io" => format!(
                "failed to authorize: failed to fetch anonymous token: unexpected status from GET request to https://ghcr.io/token?scope=repository%3A{}%3Apull&service=ghcr.io: 401 Unauthorized",
                r.path.replace('/', "%2F")
            ),
            host => format!("unexpected status from HEAD request to https://{host}/v2/{}/manifests/{reference}: 401 Unauthorized", r.path),
        };
        PullError {
            message: format!(
                "rpc error: code = Unknown desc = failed to pull and unpack image \"{full}\": failed to resolve reference \"{full}\": {detail}"
            ),
        }
    }

    /// The behaviour declared for this image, if any.
    pub fn declared_for(&self, r: &ImageRef) -> Option<&AppBehaviour> {
        self.declared.get(&r.repository())
    }
}

/// Docker config keys name registries loosely (`https://index.docker.io/v1/`,
/// `registry.example.com`, `https://registry.example.com`).
fn same_registry(key: &str, host: &str) -> bool {
    let k = key
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let k = k.split('/').next().unwrap_or(k);
    let canon = |h: &str| match h {
        "index.docker.io" | "registry-1.docker.io" | "docker.io" => "docker.io".to_string(),
        h => h.to_string(),
    };
    canon(k) == canon(host)
}

/// Credentials from a `kubernetes.io/dockerconfigjson` (or legacy
/// `kubernetes.io/dockercfg`) Secret's decoded data.
pub fn credentials_from_secret(data: &BTreeMap<String, String>) -> Vec<Credential> {
    use base64::Engine;
    let (json, nested) = match (data.get(".dockerconfigjson"), data.get(".dockercfg")) {
        (Some(j), _) => (j, true),
        (None, Some(j)) => (j, false),
        _ => return Vec::new(),
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(json) else {
        return Vec::new();
    };
    let auths = if nested { v.get("auths") } else { Some(&v) };
    let Some(auths) = auths.and_then(|a| a.as_object()) else {
        return Vec::new();
    };
    auths
        .iter()
        .map(|(registry, e)| {
            let s = |k: &str| e.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
            let (mut username, mut password) = (s("username"), s("password"));
            if username.is_empty()
                && let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(s("auth"))
                && let Ok(raw) = String::from_utf8(raw)
                && let Some((u, p)) = raw.split_once(':')
            {
                username = u.to_string();
                password = p.to_string();
            }
            Credential {
                registry: registry.clone(),
                username,
                password,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pull(image: &str) -> Result<ImageInfo, PullError> {
        Catalog::default().pull(&ImageRef::parse(image).expect("valid"), &[])
    }

    #[test]
    fn digests_are_four_zero_padded_hex_words() {
        for s in [
            "",
            "docker.io/library/nginx:1.27",
            "a",
            "registry.k8s.io/pause:3.10",
        ] {
            let want: String = (0..4u64)
                .map(|i| format!("{:016x}", fnv(s, i.wrapping_mul(0x9e37_79b9))))
                .collect();
            assert_eq!(digest_hex(s), want);
            assert_eq!(digest_hex(s).len(), 64);
        }
    }

    #[test]
    fn references_normalise_like_containerd() {
        let r = ImageRef::parse("nginx").expect("valid");
        assert_eq!(r.full(), "docker.io/library/nginx:latest");
        assert_eq!(
            ImageRef::parse("polinux/stress:1.0.4")
                .expect("valid")
                .full(),
            "docker.io/polinux/stress:1.0.4"
        );
        assert_eq!(
            ImageRef::parse("localhost:5000/app").expect("valid").full(),
            "localhost:5000/app:latest"
        );
        assert_eq!(
            ImageRef::parse("Nginx").err().as_deref(),
            Some(
                "Failed to apply default image tag \"Nginx\": couldn't parse image name \"Nginx\": invalid reference format: repository name (library/Nginx) must be lowercase"
            )
        );
        assert!(ImageRef::parse("nginx:").is_err());
        assert!(ImageRef::parse("ngi nx").is_err());
    }

    #[test]
    fn a_reference_parsed_again_is_the_one_a_fresh_parse_gives() {
        for image in [
            "nginx:1.27",
            "nginx:1.27",
            "Nginx",
            "nginx:1.27",
            "redis",
            "nginx:1.27",
            "redis@sha256:abc",
            "redis",
        ] {
            assert_eq!(
                ImageRef::parse(image),
                ImageRef::parse_anew(image),
                "{image}"
            );
        }
    }

    #[test]
    fn known_tags_pull_and_missing_tags_fail_with_containerds_message() {
        let ok = pull("nginx:1.27").expect("exists");
        assert_eq!(ok.name, "docker.io/library/nginx:1.27");
        assert!(ok.image_id.starts_with("docker.io/library/nginx@sha256:"));
        assert_eq!(
            ok.image_id,
            format!(
                "docker.io/library/nginx@sha256:{}",
                digest_hex("docker.io/library/nginx:1.27")
            )
        );
        // Pinned by digest: the image keeps the digest it was asked for.
        let pinned = pull("nginx@sha256:0123abcd").expect("exists");
        assert_eq!(pinned.name, "docker.io/library/nginx@sha256:0123abcd");
        assert_eq!(pinned.image_id, "docker.io/library/nginx@sha256:0123abcd");
        let both = pull("nginx:1.27@sha256:0123abcd").expect("exists");
        assert_eq!(both.name, "docker.io/library/nginx:1.27");
        assert_eq!(both.image_id, "docker.io/library/nginx@sha256:0123abcd");
        assert_eq!(
            pull("nginx:1.999").err().map(|e| e.message).as_deref(),
            Some(
                "rpc error: code = NotFound desc = failed to pull and unpack image \"docker.io/library/nginx:1.999\": failed to resolve reference \"docker.io/library/nginx:1.999\": docker.io/library/nginx:1.999: not found"
            )
        );
        assert_eq!(
            pull("ngnix").err().map(|e| e.message).as_deref(),
            Some(
                "rpc error: code = Unknown desc = failed to pull and unpack image \"docker.io/library/ngnix:latest\": failed to resolve reference \"docker.io/library/ngnix:latest\": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed"
            )
        );
        assert!(pull("registry.k8s.io/pause:3.10").is_ok());
        assert!(pull("registry.k8s.io/e2e-test-images/agnhost:2.53").is_ok());
    }

    #[test]
    fn private_repositories_need_matching_credentials() {
        let mut c = Catalog::default();
        c.add_private(
            "registry.example.com/team/api",
            PrivateRepo {
                tags: vec!["1.0".into()],
                username: Some("bot".into()),
                password: Some("s3cret".into()),
                size: 1000,
            },
        );
        let r = ImageRef::parse("registry.example.com/team/api:1.0").expect("valid");
        assert_eq!(
            c.pull(&r, &[]).err().map(|e| e.message).as_deref(),
            Some(
                "rpc error: code = Unknown desc = failed to pull and unpack image \"registry.example.com/team/api:1.0\": failed to resolve reference \"registry.example.com/team/api:1.0\": unexpected status from HEAD request to https://registry.example.com/v2/team/api/manifests/1.0: 401 Unauthorized"
            )
        );
        let data = BTreeMap::from([(
            ".dockerconfigjson".to_string(),
            r#"{"auths":{"registry.example.com":{"username":"bot","password":"s3cret","auth":"Ym90OnMzY3JldA=="}}}"#.to_string(),
        )]);
        let creds = credentials_from_secret(&data);
        assert!(c.pull(&r, &creds).is_ok());
        let wrong = vec![Credential {
            registry: "registry.example.com".into(),
            username: "bot".into(),
            password: "nope".into(),
        }];
        assert!(c.pull(&r, &wrong).is_err());
    }
}
