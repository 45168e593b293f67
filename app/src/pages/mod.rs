//! One module per page.

pub mod editor;
pub mod not_found;
pub mod pipeline;
pub mod pipelines;
pub mod playground;
pub mod sidecar;
