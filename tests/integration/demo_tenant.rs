//! The embedded demo tenant driven over HTTP with reqwest, in-process: token endpoints in Entra
//! ID's order and error shapes, client assertions, tokens verified against the JWKS, resource APIs
//! (401/403/429), https with the printed CA, and the `demo` CLI output. No internet, no sleeps.

mod assertions;
mod cli;
mod federated;
mod resource_apis;
mod support;
mod tls;
mod token_endpoint;
