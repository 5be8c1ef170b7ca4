//! The profile file (TOML): any content is a profile or a reason, and a profile read is written
//! back as the same profile.
#![no_main]

use entra_doctor::profile::Profile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Profile::parse(text) {
        Ok(profile) => {
            let written = toml::to_string(&profile).expect("a profile is written as TOML");
            assert_eq!(Profile::parse(&written).as_ref(), Ok(&profile), "{written}");
        }
        Err(reason) => assert!(!reason.is_empty()),
    }
});
