//! One integration-test binary (it links once): the token client against wiremock on loopback,
//! certificates, the cache, the CLI, the demo tenant, and the canary that proves secrets never
//! leak.

// Test helpers outside `#[test]` fns may panic too: a failed helper is a failed test.
#![allow(clippy::unwrap_used)]

mod audit;
mod cache;
mod canary;
mod certificates;
mod cli;
mod cli_faults;
mod consent;
mod deadline;
mod demo_client;
mod demo_limits;
mod demo_tenant;
mod demos;
mod diagnose;
mod doctor;
mod expiry;
mod fault_server;
mod faults;
mod federation;
mod fleet;
mod graph_reader;
mod hostile;
mod hostile_echo;
mod hostile_files;
mod hostile_numbers;
mod issue16;
mod managed_identity;
mod managed_identity_cli;
mod managed_identity_demo;
mod real_world;
mod setup;
mod signins;
mod support;
mod token_client;
mod token_faults;
mod transport;
mod trust;
mod tui_faults;
mod tui_flows;
mod tui_harness;
mod tui_issue_16;
mod tui_setup;
mod tui_signins;
mod tui_tenant;
mod verify_closed;
mod walkthrough;
mod walkthrough_expiry;
