//! Inbound SMS: the notification's JSON and the command in its text. Any input is read or
//! refused without a panic; a command's code is 4 to 6 digits and an unknown text's echo is
//! at most 40 characters.

#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use shared::oncall::sms::{Command, InboundSms};

fn check(body: &str) {
    match Command::parse(body) {
        Command::Ack(code) | Command::Resolve(code) => {
            assert!((4..=6).contains(&code.len()), "{code:?}");
            assert!(code.bytes().all(|b| b.is_ascii_digit()), "{code:?}");
        }
        Command::Unknown(echo) => assert!(echo.chars().count() <= 40, "{echo:?}"),
        Command::Help => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(sms) = InboundSms::parse(text) {
        check(&sms.body);
    }
    check(text);
});
