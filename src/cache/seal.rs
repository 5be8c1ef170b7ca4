//! Sealing tokens with the credential-derived key (ChaCha20-Poly1305, the cache key as AAD, so
//! an entry cannot be moved under another key).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

use crate::secret::Secret;

const NONCE_BYTES: usize = 12;

pub(super) fn seal(token: &Secret, key: &[u8; 32], context: &str) -> String {
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
    // A v4 UUID is 122 random bits from the OS: a fresh nonce without another RNG dependency.
    let random = uuid::Uuid::new_v4().into_bytes();
    let nonce = Nonce::from_slice(&random[..NONCE_BYTES]);
    let payload = Payload {
        msg: token.expose().as_bytes(),
        aad: context.as_bytes(),
    };
    // Encryption with a valid key and nonce cannot fail; an empty seal simply never opens.
    let sealed = cipher.encrypt(nonce, payload).unwrap_or_default();
    let mut out = random[..NONCE_BYTES].to_vec();
    out.extend(sealed);
    STANDARD.encode(out)
}

pub(super) fn open(sealed: &str, key: &[u8; 32], context: &str) -> Option<Secret> {
    let bytes = STANDARD.decode(sealed).ok()?;
    if bytes.len() <= NONCE_BYTES {
        return None;
    }
    let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
    let plain = cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: context.as_bytes(),
            },
        )
        .ok()?;
    String::from_utf8(plain).ok().map(Secret::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_only_with_the_same_key_and_context() {
        let token = Secret::new("eyJ.canary.token");
        let sealed = seal(&token, &[7; 32], "a");
        assert!(!sealed.contains("canary"));
        assert_eq!(open(&sealed, &[7; 32], "a"), Some(token));
        assert_eq!(open(&sealed, &[8; 32], "a"), None);
        assert_eq!(open(&sealed, &[7; 32], "b"), None);
        assert_eq!(open("not base64!", &[7; 32], "a"), None);
    }
}
