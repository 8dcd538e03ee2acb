//! Pure Kubernetes vocabulary: keys, resource versions, selectors, Status,
//! field errors, patches. No IO.
pub mod cidr;
pub mod field_error;
pub mod image_behaviour;
pub mod meta;
pub mod name;
pub mod object;
pub mod patch;
pub mod pointer;
pub mod protobuf;
pub mod qos;
pub mod quantity;
pub mod resource;
pub mod schema;
pub mod selector;
pub mod status;
pub mod yaml;
