//! Two-way SMS: what an on-call engineer texts back to a page, and the help they get when it
//! is not understood.
//!
//! AWS End User Messaging SMS publishes each inbound text to an SNS topic as a JSON document
//! (`originationNumber`, `destinationNumber`, `messageKeyword`, `messageBody`,
//! `inboundMessageId`, `previousPublishedMessageId`); [`InboundSms::parse`] reads the SNS
//! notification's `Message`. Texts are typed on a phone keypad, half awake, by someone whose
//! phone capitalises, autocorrects and adds full stops, so [`Command::parse`] cares only
//! about the letters and digits in it: `4 1234`, `Ack 1234.`, `ACK1234` and `ack: #1234` all
//! acknowledge incident code 1234.

use serde_json::Value;

/// Digits in an incident's short code.
const CODE_DIGITS: std::ops::RangeInclusive<usize> = 4..=6;
/// How much of a text that was not understood is kept, for logs and events.
const UNKNOWN_ECHO_CHARS: usize = 40;
/// One SMS segment of GSM-7 (and of ASCII, a subset of it).
const SMS_CHARS: usize = 160;

/// Words (and the page's keypad digits) that acknowledge.
const ACK_WORDS: [&str; 4] = ["4", "ack", "acknowledge", "acknowledged"];
/// Words (and the page's keypad digits) that resolve.
const RESOLVE_WORDS: [&str; 4] = ["6", "res", "resolve", "resolved"];
/// Words that ask for help.
const HELP_WORDS: [&str; 2] = ["help", "h"];

/// Why an inbound text notification could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmsError {
    /// The message is not JSON.
    #[error("the inbound text is not JSON: {0}")]
    NotJson(String),
    /// The message is JSON but not an object.
    #[error("the inbound text is not a JSON object")]
    NotAnObject,
    /// A field every inbound text has is missing (or not a string).
    #[error("the inbound text has no `{0}` string")]
    MissingField(&'static str),
}

/// A text someone sent to the paging number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundSms {
    /// The sender's number (`originationNumber`): who they are.
    pub from: String,
    /// The number it was sent to (`destinationNumber`).
    pub to: String,
    /// What they wrote (`messageBody`).
    pub body: String,
    /// The text's unique id (`inboundMessageId`): it is handled once.
    pub id: String,
}

impl InboundSms {
    /// Reads the JSON document AWS End User Messaging publishes for an inbound text.
    pub fn parse(message_json: &str) -> Result<Self, SmsError> {
        let value: Value =
            serde_json::from_str(message_json).map_err(|e| SmsError::NotJson(e.to_string()))?;
        let Value::Object(fields) = value else {
            return Err(SmsError::NotAnObject);
        };
        let field = |name: &'static str| {
            fields
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or(SmsError::MissingField(name))
        };
        Ok(Self {
            from: field("originationNumber")?,
            to: field("destinationNumber")?,
            body: field("messageBody")?,
            id: field("inboundMessageId")?,
        })
    }
}

/// What a text asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Acknowledge the incident with this short code.
    Ack(String),
    /// Resolve the incident with this short code.
    Resolve(String),
    /// Explain the commands.
    Help,
    /// Anything else: the text (trimmed, at most 40 characters).
    Unknown(String),
}

impl Command {
    /// Reads a text: case, spacing and punctuation do not matter, only the words and digits.
    pub fn parse(body: &str) -> Self {
        let tokens = tokens(body);
        match tokens.as_slice() {
            [verb, code] if is_code(code) => {
                if ACK_WORDS.contains(&verb.as_str()) {
                    return Command::Ack(code.clone());
                }
                if RESOLVE_WORDS.contains(&verb.as_str()) {
                    return Command::Resolve(code.clone());
                }
            }
            [first, ..] if HELP_WORDS.contains(&first.as_str()) => return Command::Help,
            [] if body.contains('?') => return Command::Help,
            _ => {}
        }
        Command::Unknown(body.trim().chars().take(UNKNOWN_ECHO_CHARS).collect())
    }
}

/// The runs of letters (lower-cased) and of ASCII digits in `body`; everything else only
/// separates them, and so does a change from letters to digits (`ACK1234`).
fn tokens(body: &str) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut digits = false;
    for c in body.chars() {
        let kind = if c.is_ascii_digit() {
            Some(true)
        } else if c.is_alphabetic() {
            Some(false)
        } else {
            None
        };
        match kind {
            Some(is_digit) if current.is_empty() || is_digit == digits => {
                digits = is_digit;
                current.extend(c.to_lowercase());
            }
            Some(is_digit) => {
                tokens.push(std::mem::take(&mut current));
                digits = is_digit;
                current.extend(c.to_lowercase());
            }
            None if !current.is_empty() => tokens.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

fn is_code(token: &str) -> bool {
    CODE_DIGITS.contains(&token.len()) && token.bytes().all(|b| b.is_ascii_digit())
}

/// The answer to a text that was not understood: how to acknowledge and resolve, in one SMS
/// (at most 160 ASCII characters; a long or non-ASCII service name is shortened to fit).
pub fn help_text(service_name: &str) -> String {
    const TAIL: &str = ": reply 4 CODE (or ACK CODE) to acknowledge, 6 CODE (or RESOLVE CODE) \
                        to resolve. CODE is the number in the page.";
    let room = SMS_CHARS - TAIL.len();
    let ascii: String = service_name
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .collect();
    let mut name = ascii.trim().to_owned();
    if name.is_empty() {
        name = "sitrep".to_owned();
    }
    if name.len() > room {
        name.truncate(room);
        name = name.trim_end().to_owned();
    }
    format!("{name}{TAIL}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(code: &str) -> Command {
        Command::Ack(code.to_owned())
    }

    fn resolve(code: &str) -> Command {
        Command::Resolve(code.to_owned())
    }

    #[test]
    fn acknowledgements_in_every_way_people_type_them() {
        for text in [
            "4 1234",
            "ack 1234",
            "ACK 1234",
            "Ack 1234.",
            "ACK1234",
            "ack1234",
            "acknowledge 1234",
            "Acknowledged 1234!",
            "  ack   1234  ",
            "ack: #1234",
            "4-1234",
            "4\u{a0}1234",
            "\n4\t1234\n",
        ] {
            assert_eq!(Command::parse(text), ack("1234"), "{text:?}");
        }
        assert_eq!(Command::parse("ack 123456"), ack("123456"));
        assert_eq!(Command::parse("4 00042"), ack("00042"));
    }

    #[test]
    fn resolutions_in_every_way_people_type_them() {
        for text in [
            "6 1234",
            "resolve 1234",
            "RESOLVE 1234",
            "res 1234",
            "Res1234",
            "resolved, 1234",
            " 6  1234. ",
        ] {
            assert_eq!(Command::parse(text), resolve("1234"), "{text:?}");
        }
    }

    #[test]
    fn help_is_help_h_or_a_question_mark() {
        for text in ["help", "HELP", "Help!", "h", "H", "?", " ?? ", "help me"] {
            assert_eq!(Command::parse(text), Command::Help, "{text:?}");
        }
    }

    #[test]
    fn everything_else_is_unknown_and_echoed_trimmed_and_short() {
        for text in [
            "",
            "ack",
            "1234",
            "41234",
            "ack 123",
            "ack 1234567",
            "5 1234",
            "ack 1234 5678",
            "ack 1234 thanks",
            "stop",
            "hello?",
            "ack abcd",
            "ack ١٢٣٤",
        ] {
            assert_eq!(
                Command::parse(text),
                Command::Unknown(text.trim().to_owned()),
                "{text:?}"
            );
        }
        let long = "x".repeat(500);
        assert_eq!(Command::parse(&long), Command::Unknown("x".repeat(40)));
        let accents = "é".repeat(100);
        assert_eq!(Command::parse(&accents), Command::Unknown("é".repeat(40)));
    }

    #[test]
    fn the_documented_inbound_payload_is_read() {
        let message = r#"{"originationNumber":"+14255550182","destinationNumber":"+12125550101","messageKeyword":"JOIN","messageBody":"ack 1234","inboundMessageId":"cae173d2-66b9-564c-8309-21f858e9fb84","previousPublishedMessageId":"wJ0Ovj0P4L6W2E2GZKPNSRU0ge0"}"#;
        assert_eq!(
            InboundSms::parse(message).unwrap(),
            InboundSms {
                from: "+14255550182".into(),
                to: "+12125550101".into(),
                body: "ack 1234".into(),
                id: "cae173d2-66b9-564c-8309-21f858e9fb84".into(),
            }
        );
    }

    #[test]
    fn unreadable_payloads_say_what_is_wrong() {
        assert!(matches!(
            InboundSms::parse("not json"),
            Err(SmsError::NotJson(_))
        ));
        assert_eq!(InboundSms::parse("[1]"), Err(SmsError::NotAnObject));
        let without_body = r#"{"originationNumber":"+14255550182","destinationNumber":"+12125550101","inboundMessageId":"x"}"#;
        let error = InboundSms::parse(without_body).unwrap_err();
        assert_eq!(error, SmsError::MissingField("messageBody"));
        assert!(error.to_string().contains("messageBody"), "{error}");
        let numeric_id = r#"{"originationNumber":"+1","destinationNumber":"+2","messageBody":"","inboundMessageId":7}"#;
        assert_eq!(
            InboundSms::parse(numeric_id),
            Err(SmsError::MissingField("inboundMessageId"))
        );
    }

    #[test]
    fn help_fits_one_ascii_sms_whatever_the_service_is_called() {
        let text = help_text("Acme Cloud");
        assert!(text.starts_with("Acme Cloud: reply 4 CODE"), "{text}");
        assert!(text.contains("6 CODE"), "{text}");
        for name in ["Acme Cloud", "", "Ünïcødé Çloud ☁", &"A".repeat(300)] {
            let text = help_text(name);
            assert!(text.len() <= 160, "{} chars: {text}", text.len());
            assert!(text.is_ascii(), "{text}");
            assert!(
                text.contains("4 CODE") && text.contains("RESOLVE CODE"),
                "{text}"
            );
        }
        assert!(help_text("").starts_with("sitrep: "));
    }
}
