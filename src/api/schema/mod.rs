//! The schema layer: OpenAPI definitions of the served built-in types,
//! generated at run time from k8s-openapi (`schemars` feature) and decorated
//! like upstream's kube-openapi output. Used for strategic merge patch
//! (`PatchSchema`), strict field validation, and `/openapi/v3`.

pub mod cursor;
pub mod defs;
pub mod openapi;
pub mod patch_keys;
pub mod strict;

pub use cursor::{SchemaCursor, patch_schema_for};
pub use defs::{Definitions, definitions};
pub use openapi::{openapi_v3_document, openapi_v3_root};
pub use strict::{FieldCheck, check_fields, prune_unknown};
