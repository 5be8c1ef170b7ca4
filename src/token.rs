//! Access tokens, decoded: header, typed claims, times.
//!
//! Decoding never verifies anything and never fails on a surprising claim; it fails only on
//! input that is not a JWT, with a message that says exactly why.

pub mod claims;
pub mod decode;
pub mod time;

pub use claims::{Audience, Claims, TokenHeader};
pub use decode::{DecodeError, DecodedToken, decode};
pub use time::{relative, relative_to_expiry};
