//! Pieces the pages share.

pub mod badge;
pub mod code;
pub mod copy;
pub mod crumbs;
pub mod dialog;
pub mod guard;
pub mod hydrate;
pub mod live;
pub mod load;
pub mod logs;
pub mod rights;
pub mod stopped;
pub mod storage;
pub mod table;
pub mod tabs;
pub mod theme;
pub mod time;
