//! Property tests of what an on-call engineer sends back: inbound text notifications, the
//! commands in their texts, and acknowledgement link tokens. Whatever arrives is read or
//! refused without a panic; a command only ever carries a 4-to-6-digit code; and a token is
//! accepted only when it is exactly one that was minted.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use serde_json::{Value, json};

use super::sms::{Command, InboundSms, SmsError};
use super::token::{self, AckKey, TOKEN_LEN, TokenError};
use crate::clock::ManualClock;
use crate::config::PersonId;
use crate::random::SeededRandom;
use crate::store::sqlite::SqliteStore;

/// Enough cases to find a panic, few enough to run in a few seconds.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

/// What people text: the command words, codes, punctuation and other scripts, in any order.
fn sms_body() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        prop::sample::select(
            &[
                "4",
                "6",
                "ack",
                "ACK",
                "Ack",
                "acknowledge",
                "res",
                "RESOLVE",
                "resolved",
                "help",
                "H",
                "?",
                "#",
                ":",
                ".",
                " ",
                "  ",
                "\n",
                "1234",
                "12345",
                "123456",
                "1234567",
                "123",
                "٣٤٥٦",
                "１２３４",
                "İ",
                "ß",
                "ǅ",
                "🔥",
            ][..]
        )
        .prop_map(str::to_owned),
        "\\PC{0,6}",
    ];
    prop::collection::vec(part, 0..6).prop_map(|parts| parts.concat())
}

fn check_command(body: &str) -> Result<(), TestCaseError> {
    match Command::parse(body) {
        Command::Ack(code) | Command::Resolve(code) => {
            prop_assert!((4..=6).contains(&code.len()), "{code:?} from {body:?}");
            prop_assert!(
                code.bytes().all(|b| b.is_ascii_digit()),
                "{code:?} from {body:?}"
            );
            prop_assert!(body.contains(code.as_str()), "{code:?} from {body:?}");
        }
        Command::Unknown(echo) => {
            prop_assert!(echo.chars().count() <= 40, "{echo:?}");
            prop_assert!(
                body.trim().starts_with(echo.as_str()),
                "{echo:?} of {body:?}"
            );
        }
        Command::Help => {}
    }
    Ok(())
}

fn key() -> AckKey {
    AckKey::new(&[7u8; 32]).expect("32 bytes make a key")
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_795_430_400, 0).expect("a valid instant")
}

/// A store holding one genuine token for `inc-1`, and that token.
async fn minted() -> (SqliteStore, String) {
    let store = SqliteStore::in_memory(Arc::new(ManualClock::new(now()))).expect("a store");
    let person = PersonId::parse("alice").expect("a valid id");
    let token = token::mint(
        &store,
        &key(),
        "inc-1",
        &person,
        now() + Duration::hours(1),
        &SeededRandom::new(1),
    )
    .await
    .expect("minted");
    (store, token)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_text_is_an_inbound_sms_or_refused(text in "\\PC{0,80}") {
        let _ = InboundSms::parse(&text);
    }

    #[test]
    fn any_json_object_is_read_only_with_all_four_strings(
        from in prop::option::of("\\PC{0,12}"),
        to in prop::option::of("\\PC{0,12}"),
        body in prop::option::of(sms_body()),
        id in prop::option::of("\\PC{0,12}"),
        body_is_number in any::<bool>(),
    ) {
        let mut fields = serde_json::Map::new();
        for (name, value) in [
            ("originationNumber", &from),
            ("destinationNumber", &to),
            ("messageBody", &body),
            ("inboundMessageId", &id),
        ] {
            if let Some(value) = value {
                fields.insert(name.into(), json!(value));
            }
        }
        if body_is_number {
            fields.insert("messageBody".into(), json!(1234));
        }
        let text = Value::Object(fields).to_string();
        match InboundSms::parse(&text) {
            Ok(sms) => {
                prop_assert!(!body_is_number);
                prop_assert_eq!(Some(&sms.from), from.as_ref());
                prop_assert_eq!(Some(&sms.to), to.as_ref());
                prop_assert_eq!(Some(&sms.body), body.as_ref());
                prop_assert_eq!(Some(&sms.id), id.as_ref());
                check_command(&sms.body)?;
            }
            Err(SmsError::MissingField(_)) => prop_assert!(
                body_is_number || from.is_none() || to.is_none() || body.is_none() || id.is_none()
            ),
            Err(other) => prop_assert!(false, "{other} for {text}"),
        }
    }

    #[test]
    fn any_text_is_a_command_with_a_digit_code_or_a_short_echo(body in sms_body()) {
        check_command(&body)?;
    }

    #[test]
    fn any_unicode_is_a_command_with_a_digit_code_or_a_short_echo(body in "\\PC{0,60}") {
        check_command(&body)?;
    }

    #[test]
    fn ack_and_resolve_with_any_code_are_understood_however_typed(
        code in "[0-9]{4,6}",
        resolve in any::<bool>(),
        word in 0usize..4,
        separator in prop::sample::select(&["", " ", ": #", "  ", "-"][..]),
        upper in any::<bool>(),
        stop in prop::sample::select(&["", ".", "!", " "][..]),
    ) {
        let words = if resolve {
            ["6", "res", "resolve", "resolved"]
        } else {
            ["4", "ack", "acknowledge", "acknowledged"]
        };
        let verb = words[word];
        // A keypad digit followed directly by the code would read as one longer number.
        let separator = if verb.len() == 1 && separator.is_empty() { " " } else { separator };
        let verb = if upper { verb.to_uppercase() } else { verb.to_owned() };
        let text = format!("{verb}{separator}{code}{stop}");
        let expected = if resolve { Command::Resolve(code) } else { Command::Ack(code) };
        prop_assert_eq!(Command::parse(&text), expected, "{:?}", text);
    }

    #[test]
    fn any_string_decodes_only_as_27_base64url_characters(token in "\\PC{0,40}|[A-Za-z0-9_=+/-]{26,28}") {
        if token::record_key(&token).is_ok() {
            prop_assert_eq!(token.len(), TOKEN_LEN);
            prop_assert!(
                token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{:?}", token
            );
        }
    }

    #[test]
    fn any_secret_text_is_a_key_or_refused(text in "\\PC{0,80}") {
        let _ = AckKey::from_secret_text(&text);
    }
}

proptest! {
    // Every case opens a store: fewer of them.
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_tokens_are_refused(token in "\\PC{0,40}|[A-Za-z0-9_-]{27}") {
        let outcome = runtime().block_on(async {
            let (store, genuine) = minted().await;
            let outcome = token::redeem(&store, &key(), &token, now()).await;
            (genuine, outcome)
        });
        match outcome {
            (genuine, Ok(_)) => prop_assert_eq!(token, genuine),
            (_, Err(TokenError::Malformed | TokenError::Unknown)) => {}
            (_, Err(other)) => prop_assert!(false, "{} for {:?}", other, token),
        }
    }

    #[test]
    fn a_genuine_token_changed_anywhere_is_refused(
        byte in 0usize..20,
        flip in 1u8..=255,
    ) {
        runtime().block_on(async {
            let (store, genuine) = minted().await;
            let mut raw = URL_SAFE_NO_PAD.decode(&genuine).expect("a minted token decodes");
            raw[byte] ^= flip;
            let changed = URL_SAFE_NO_PAD.encode(&raw);
            let outcome = token::check(&store, &key(), &changed, now()).await;
            // A changed nonce finds no record; a changed tag does not match it.
            prop_assert!(
                matches!(outcome, Err(TokenError::Unknown | TokenError::Forged)),
                "{:?} for byte {} ^ {}", outcome, byte, flip
            );
            let kept = token::check(&store, &key(), &genuine, now()).await;
            prop_assert!(kept.is_ok(), "{:?}", kept);
            Ok(())
        })?;
    }
}
