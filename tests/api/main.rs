//! Integration tests: every module drives the server over HTTP, as clients do.

mod common;
mod foundation;
mod lists;
mod real_binary;
mod sdk;
