//! Fitting a page into an SMS: the first two bytes are the limit, the rest the head and tail
//! (split at the first NUL). The result is GSM-7 and never longer than the limit.

#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use shared::notify::gsm7::{fit, gsm7_len, to_gsm7};

fuzz_target!(|data: &[u8]| {
    let [a, b, rest @ ..] = data else {
        return;
    };
    let limit = usize::from(u16::from_le_bytes([*a, *b]) % 400);
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let (head, tail) = text.split_once('\0').unwrap_or((text, ""));
    let converted = to_gsm7(text);
    assert!(gsm7_len(&converted).is_some(), "{converted:?} is not GSM-7");
    let sms = fit(head, tail, limit);
    match gsm7_len(&sms) {
        Some(len) => assert!(len <= limit, "{len} septets over {limit}: {sms:?}"),
        None => panic!("{sms:?} is not GSM-7"),
    }
});
