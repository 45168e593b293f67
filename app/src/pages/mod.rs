//! One module per page.

pub mod playground;
