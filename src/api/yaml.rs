//! YAML as kubectl reads it (YAML 1.1 octals such as `defaultMode: 0644`).

use serde_json::Value;

/// Options matching kubectl's reading of manifests.
fn options() -> serde_saphyr::Options {
    serde_saphyr::options! { legacy_octal_numbers: true }
}

/// Parses one YAML document into JSON.
pub fn from_str(text: &str) -> Result<Value, serde_saphyr::Error> {
    serde_saphyr::from_str_with_options(text, options())
}

/// Parses every document of a multi-document stream, skipping empty ones.
pub fn from_multiple(text: &str) -> Result<Vec<Value>, serde_saphyr::Error> {
    let docs: Vec<Value> = serde_saphyr::from_multiple_with_options(text, options())?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

/// Renders JSON as YAML.
pub fn to_string(v: &Value) -> Result<String, serde_saphyr::SerializeError> {
    serde_saphyr::to_string(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_legacy_octal_like_kubectl() {
        let v = from_str("defaultMode: 0644\nname: x\n").unwrap();
        assert_eq!(v["defaultMode"], 420);
    }

    #[test]
    fn splits_documents() {
        let docs = from_multiple("a: 1\n---\n---\nb: 2\n").unwrap();
        assert_eq!(docs.len(), 2);
    }
}
