//! The configuration file: any text is a configuration or a list of errors, each naming a line
//! of the text, never a panic.

#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use shared::config::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(errors) = Config::parse(text) {
        assert!(
            !errors.0.is_empty(),
            "a refused configuration names an error"
        );
        let lines = text.split('\n').count();
        for error in &errors.0 {
            assert!(
                (1..=lines).contains(&error.line),
                "line {} outside 1..={lines}: {error}",
                error.line
            );
        }
    }
});
