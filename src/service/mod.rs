//! The rules: one module per resource, one function per operation. A handler in `api/`
//! parses the request, authorizes it through the typed scopes and calls one function here;
//! that function validates the input, applies the rules and makes the store calls. Services
//! never import `api/`: request inputs (the `*Create`/`*Update` bodies) are defined here,
//! views (the JSON answers) are defined there.
//!
//! Every request is one transaction: a write that spans entities composes the stores'
//! `*_in` functions in one `state.store.transact(...)`. What a transaction cannot do (scan
//! a range) is read before it and re-checked inside it by point reads.

pub mod accounts;
pub mod apikeys;
pub mod audit;
pub mod branding;
pub mod certificates;
pub mod developer_certificates;
pub mod filter;
pub mod groups;
pub mod health;
pub mod identity_providers;
pub mod invitations;
pub mod members;
pub mod notifications;
pub mod scope;
pub mod server_credentials;
pub mod signin;
pub mod user_record;
pub mod users;
pub mod validate;

pub use scope::AccountScope;
