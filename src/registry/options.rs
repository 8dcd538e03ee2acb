//! Options of a write request (query parameters and DeleteOptions).

/// `fieldValidation`: what to do with unknown or duplicate fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldValidation {
    Ignore,
    Warn,
    #[default]
    Strict,
}

impl FieldValidation {
    /// Parses the query value; upstream's default when absent is Warn
    /// for the API, but kubectl always sends Strict.
    pub fn parse(v: Option<&str>) -> Result<Self, String> {
        match v {
            None | Some("") | Some("Warn") => Ok(Self::Warn),
            Some("Strict") => Ok(Self::Strict),
            Some("Ignore") => Ok(Self::Ignore),
            Some(other) => Err(format!("fieldValidation parameter unsupported: {other}")),
        }
    }
}

/// Options shared by create, update and patch.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    pub dry_run: bool,
    pub field_validation: FieldValidation,
    pub field_manager: Option<String>,
    /// Written by the simulator itself (controllers, kubelets, event
    /// recorder), which only writes fields it knows: the decode-time field
    /// check (unknown fields, JSON types) is skipped. Defaults, strategies
    /// and validation still run.
    pub internal: bool,
}

impl WriteOptions {
    /// The options of the simulator's own writes.
    pub fn internal() -> Self {
        Self {
            internal: true,
            ..Self::default()
        }
    }
}

/// `propagationPolicy` of a delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    Orphan,
    Background,
    Foreground,
}

/// Options of a delete (from the body or query).
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    pub dry_run: bool,
    pub grace_period_seconds: Option<i64>,
    pub propagation: Option<Propagation>,
    pub precondition_uid: Option<String>,
    pub precondition_rv: Option<u64>,
}

impl DeleteOptions {
    /// Reads a `DeleteOptions` JSON body and overrides from the query.
    pub fn from_json(v: &serde_json::Value) -> Result<Self, String> {
        let mut o = Self::default();
        if let Some(dr) = v.get("dryRun").and_then(|d| d.as_array()) {
            o.dry_run = dr.iter().any(|x| x.as_str() == Some("All"));
        }
        o.grace_period_seconds = v
            .get("gracePeriodSeconds")
            .and_then(serde_json::Value::as_i64);
        if let Some(p) = v.get("propagationPolicy").and_then(|p| p.as_str()) {
            o.propagation = Some(Propagation::parse(p)?);
        } else if v
            .get("orphanDependents")
            .and_then(serde_json::Value::as_bool)
            == Some(true)
        {
            o.propagation = Some(Propagation::Orphan);
        }
        o.precondition_uid = v
            .pointer("/preconditions/uid")
            .and_then(|u| u.as_str())
            .map(str::to_string);
        o.precondition_rv = v
            .pointer("/preconditions/resourceVersion")
            .and_then(|u| u.as_str())
            .and_then(|s| s.parse().ok());
        Ok(o)
    }
}

impl Propagation {
    pub fn parse(p: &str) -> Result<Self, String> {
        match p {
            "Orphan" => Ok(Self::Orphan),
            "Background" => Ok(Self::Background),
            "Foreground" => Ok(Self::Foreground),
            other => Err(format!(
                "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"{other}\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
            )),
        }
    }
}
