//! Integration tests: every module drives the server over HTTP, as clients do.

mod common;
mod conformance;
mod crash;
mod exact;
mod foundation;
mod harness;
mod lists;
mod operations;
mod real_binary;
mod sdk;

mod apikeys;
mod audit;
mod branding;
mod certificates;
mod identity_providers;
mod input_rules;
mod invitations;
mod isolation;
mod memory_store;
mod notifications;
mod owner_rights;
mod policy_groups;
mod secret_responses;
mod tenants;
mod transactions;
mod users;
