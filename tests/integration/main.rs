//! One integration-test binary (it links once): the token client against wiremock on loopback,
//! certificates, the cache, the CLI, and the canary that proves secrets never leak.

mod cache;
mod canary;
mod certificates;
mod cli;
mod support;
mod token_client;
