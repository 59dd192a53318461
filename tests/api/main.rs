//! Integration tests: every module drives the server over HTTP, as clients do.

mod common;
mod conformance;
mod crash;
mod dev;
mod exact;
mod foundation;
mod harness;
mod lists;
mod operations;
mod pg;
mod real_binary;
mod sdk;

mod apikeys;
mod audit;
mod auth;
mod branding;
mod browser;
mod certificates;
mod identity_providers;
mod input_rules;
mod invitations;
mod isolation;
mod memory_store;
mod multi_node;
mod notifications;
mod owner_rights;
mod policy_groups;
mod postgres_store;
mod secret_responses;
mod tenants;
mod transactions;
mod users;
