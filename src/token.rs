//! Access tokens, decoded: header, typed claims, times.
//!
//! Decoding never verifies anything (that is [`verify`], against the tenant's keys) and never fails on a surprising claim; it fails only on
//! input that is not a JWT, with a message that says exactly why.

pub mod claims;
pub mod decode;
pub mod time;
pub mod verify;

pub use claims::{Audience, Claims, TokenHeader};
pub use decode::{DecodeError, DecodedToken, SignatureState, decode, strip_wrapping};
pub use time::{relative, relative_to_expiry};
pub use verify::{Verification, Verifier, VerifyTarget};
