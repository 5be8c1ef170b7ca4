//! The token cache file (JSON): any bytes are a cache or a reason; a cache's entries are looked
//! up and their sealed tokens opened (never with a key they were not sealed with).
#![no_main]

#[path = "../common.rs"]
mod common;

use entra_doctor::cache::TokenCache;
use entra_doctor::token::relative;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match TokenCache::parse(data) {
        Ok(cache) => {
            let now = common::now();
            assert_eq!(cache.entries().count(), cache.len());
            for entry in cache.entries() {
                // What `cache list` shows of an entry.
                let _ = (
                    entry.time_left(now).num_seconds(),
                    entry.stale_reason(now),
                    entry.key.id(),
                );
                let _ = relative(entry.expires_on, now);
                let _ = entry.expires_on.format("%Y-%m-%d %H:%M:%S UTC").to_string();
                serde_json::to_string(entry).expect("an entry serialises");
                // The fuzzer cannot forge a ChaCha20-Poly1305 seal: a lookup never opens one.
                assert!(cache.lookup(&entry.key, &[0x5a; 32], now).is_err());
            }
        }
        Err(reason) => assert!(!reason.is_empty()),
    }
});
