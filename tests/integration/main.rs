//! The one integration-test binary (one link, submodules per area).

// Test helpers outside `#[test]` fns may panic too: a failed helper is a failed test.
#![allow(clippy::unwrap_used)]

mod demo_tenant;
