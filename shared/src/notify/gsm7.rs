//! The GSM 03.38 alphabet: which characters an SMS can carry in its 7-bit encoding, what they
//! cost, and how a page's text is made to fit one segment.
//!
//! One character outside the alphabet (a curly quote from a template, an emoji from a
//! customer's post) switches the whole SMS to UCS-2, which cuts a segment from 160 characters
//! to 70: a page then arrives in two or three parts, out of order on some phones, and costs
//! as many messages. So every SMS is converted with [`to_gsm7`] and shortened with [`fit`],
//! which keeps the acknowledgement instructions whole and shortens the description instead.
//!
//! The extension table's characters (`^{}\[~]|€` and form feed) take an escape character
//! first, so they count twice; [`gsm7_len`] counts septets, the unit of the 160 limit.

use unicode_segmentation::UnicodeSegmentation;

/// The septets in one single-part SMS.
pub const SEGMENT_SEPTETS: usize = 160;

/// What a shortened head ends with.
const ELLIPSIS: &str = "...";

/// The characters of the extension table, each sent as an escape plus one septet.
const EXTENSION: [char; 10] = ['\u{0C}', '^', '{', '}', '\\', '[', '~', ']', '|', '€'];

/// Whether `c` is in the basic character set (one septet).
fn is_basic(c: char) -> bool {
    match c {
        'A'..='Z' | 'a'..='z' | '0'..='9' => true,
        // ASCII punctuation, less the characters that are missing (`) or in the extension
        // table.
        ' ' | '!' | '"' | '#' | '$' | '%' | '&' | '\'' | '(' | ')' | '*' | '+' | ',' | '-'
        | '.' | '/' | ':' | ';' | '<' | '=' | '>' | '?' | '@' | '_' | '\n' | '\r' => true,
        '£' | '¥' | 'è' | 'é' | 'ù' | 'ì' | 'ò' | 'Ç' | 'Ø' | 'ø' | 'Å' | 'å' | 'Δ' | 'Φ' | 'Γ'
        | 'Λ' | 'Ω' | 'Π' | 'Ψ' | 'Σ' | 'Θ' | 'Ξ' | 'Æ' | 'æ' | 'ß' | 'É' | '¤' | '¡' | 'Ä'
        | 'Ö' | 'Ñ' | 'Ü' | '§' | '¿' | 'ä' | 'ö' | 'ñ' | 'ü' | 'à' => true,
        _ => false,
    }
}

/// The septets `c` costs, or `None` outside the alphabet.
fn septets(c: char) -> Option<usize> {
    if is_basic(c) {
        Some(1)
    } else if EXTENSION.contains(&c) {
        Some(2)
    } else {
        None
    }
}

/// Whether `c` can be sent in a GSM-7 SMS (basic set or extension table).
pub fn is_gsm7(c: char) -> bool {
    septets(c).is_some()
}

/// The length of `text` in septets (extension characters count 2), or `None` when a
/// character is outside GSM-7 and the text would have to go as UCS-2.
pub fn gsm7_len(text: &str) -> Option<usize> {
    text.chars().map(septets).sum()
}

/// The GSM-7 stand-in for one character that is not in the alphabet, if there is a
/// sensible one.
fn transliterate(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{2039}'
        | '\u{203A}' | '´' | '`' => "'",
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '«' | '»' => "\"",
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '•' => "-",
        '…' => "...",
        '\t' | '\u{A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => " ",
        // Invisible: soft hyphen, zero-width spaces and joiners, byte-order mark.
        '\u{AD}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' => "",
        '×' => "x",
        '÷' => "/",
        '©' => "(c)",
        '®' => "(R)",
        '™' => "TM",
        'á' | 'â' | 'ã' | 'ā' | 'ă' | 'ą' => "a",
        'À' | 'Á' | 'Â' | 'Ã' | 'Ā' | 'Ă' | 'Ą' => "A",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'Ć' | 'Ĉ' | 'Ċ' | 'Č' => "C",
        'ď' | 'đ' | 'ð' => "d",
        'Ď' | 'Đ' | 'Ð' => "D",
        'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'È' | 'Ê' | 'Ë' | 'Ē' | 'Ĕ' | 'Ė' | 'Ę' | 'Ě' => "E",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'Ĝ' | 'Ğ' | 'Ġ' | 'Ģ' => "G",
        'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'Ì' | 'Í' | 'Î' | 'Ï' | 'Ĩ' | 'Ī' | 'Ĭ' | 'Į' | 'İ' => "I",
        'ĺ' | 'ļ' | 'ľ' | 'ł' => "l",
        'Ĺ' | 'Ļ' | 'Ľ' | 'Ł' => "L",
        'ń' | 'ņ' | 'ň' => "n",
        'Ń' | 'Ņ' | 'Ň' => "N",
        'ó' | 'ô' | 'õ' | 'ō' | 'ŏ' | 'ő' => "o",
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ō' | 'Ŏ' | 'Ő' => "O",
        'ŕ' | 'ř' => "r",
        'Ŕ' | 'Ř' => "R",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' => "s",
        'Ś' | 'Ŝ' | 'Ş' | 'Š' | 'Ș' => "S",
        'ţ' | 'ť' | 'ț' => "t",
        'Ţ' | 'Ť' | 'Ț' => "T",
        'ú' | 'û' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'Ù' | 'Ú' | 'Û' | 'Ũ' | 'Ū' | 'Ŭ' | 'Ů' | 'Ű' | 'Ų' => "U",
        'ý' | 'ÿ' => "y",
        'Ý' | 'Ÿ' => "Y",
        'ź' | 'ż' | 'ž' => "z",
        'Ź' | 'Ż' | 'Ž' => "Z",
        'œ' => "oe",
        'Œ' => "OE",
        'þ' => "th",
        'Þ' => "Th",
        _ => return None,
    })
}

/// Marks that only modify the character before them: combining accents and emoji
/// presentation selectors.
fn is_modifier(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{20D0}'..='\u{20FF}' | '\u{FE00}'..='\u{FE0F}')
}

/// A letter followed by a combining accent that the basic set has precomposed: text from
/// macOS and some keyboards arrives decomposed, and `e` + acute should stay `é`.
fn compose(base: char, mark: char) -> Option<char> {
    Some(match (base, mark) {
        ('e', '\u{0301}') => 'é',
        ('E', '\u{0301}') => 'É',
        ('e', '\u{0300}') => 'è',
        ('u', '\u{0300}') => 'ù',
        ('i', '\u{0300}') => 'ì',
        ('o', '\u{0300}') => 'ò',
        ('a', '\u{0300}') => 'à',
        ('a', '\u{0308}') => 'ä',
        ('o', '\u{0308}') => 'ö',
        ('u', '\u{0308}') => 'ü',
        ('A', '\u{0308}') => 'Ä',
        ('O', '\u{0308}') => 'Ö',
        ('U', '\u{0308}') => 'Ü',
        ('n', '\u{0303}') => 'ñ',
        ('N', '\u{0303}') => 'Ñ',
        ('a', '\u{030A}') => 'å',
        ('A', '\u{030A}') => 'Å',
        ('C', '\u{0327}') => 'Ç',
        _ => return None,
    })
}

fn push_converted(out: &mut String, c: char) {
    if is_gsm7(c) {
        out.push(c);
    } else if let Some(stand_in) = transliterate(c) {
        out.push_str(stand_in);
    } else {
        out.push('?');
    }
}

/// `text` in the GSM-7 alphabet: typographic quotes, dashes, ellipses and special spaces
/// become their plain forms, accented letters the alphabet lacks lose the accent (those it
/// has, like `é`, `ñ` or `ü`, stay), and anything else becomes one `?` per character as the
/// reader sees it (an emoji built from several code points is one `?`).
pub fn to_gsm7(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for grapheme in text.graphemes(true) {
        let mut chars = grapheme.chars();
        let Some(first) = chars.next() else {
            continue;
        };
        let rest = chars.as_str();
        if rest.is_empty() {
            push_converted(&mut out, first);
        } else if grapheme.chars().all(is_gsm7) {
            // CR LF is one grapheme and both halves are in the alphabet.
            out.push_str(grapheme);
        } else if rest.chars().all(is_modifier) {
            let mut marks = rest.chars();
            let composed = match (marks.next(), marks.next()) {
                (Some(mark), None) => compose(first, mark),
                _ => None,
            };
            match composed {
                Some(letter) => out.push(letter),
                None => push_converted(&mut out, first),
            }
        } else {
            out.push('?');
        }
    }
    out
}

/// Septets of text already converted by [`to_gsm7`]; a stray character counts as two, so a
/// budget is never overrun.
fn septets_of(text: &str) -> usize {
    text.chars().map(|c| septets(c).unwrap_or(2)).sum()
}

/// The longest prefix of `text` of at most `limit` septets.
fn cut(text: &str, limit: usize) -> &str {
    let mut used = 0;
    for (index, c) in text.char_indices() {
        used += septets(c).unwrap_or(2);
        if used > limit {
            return &text[..index];
        }
    }
    text
}

/// `head` shortened to at most `room` septets, on a word boundary when that keeps at least
/// half of the room, without trailing spaces or punctuation (an ellipsis follows).
fn shorten(head: &str, room: usize) -> &str {
    let mut kept = cut(head, room);
    let at_word_end = head[kept.len()..]
        .chars()
        .next()
        .is_none_or(char::is_whitespace);
    if !at_word_end
        && let Some(space) = kept.rfind(char::is_whitespace)
        && septets_of(&kept[..space]) * 2 >= room
    {
        kept = &kept[..space];
    }
    kept.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '-' | '.'))
}

/// The SMS `head + " " + tail` in GSM-7, at most `limit` septets ([`SEGMENT_SEPTETS`] for
/// one segment).
///
/// `tail` (the acknowledgement instructions and link) is never shortened: without it the
/// page cannot be acknowledged. `head` (what happened) is cut instead, preferably after a
/// whole word, and ends with `...` so the reader knows there is more. If not even a word of
/// the head fits, the SMS is the tail alone; if the tail alone is too long, it is cut to the
/// limit.
pub fn fit(head: &str, tail: &str, limit: usize) -> String {
    let head = to_gsm7(head.trim());
    let tail = to_gsm7(tail.trim());
    let tail_len = septets_of(&tail);
    if tail_len > limit {
        return cut(&tail, limit).to_owned();
    }
    if head.is_empty() {
        return tail;
    }
    let separator = if tail.is_empty() { "" } else { " " };
    let whole = format!("{head}{separator}{tail}");
    if septets_of(&whole) <= limit {
        return whole;
    }
    let Some(room) = limit.checked_sub(tail_len + separator.len() + ELLIPSIS.len()) else {
        return if tail.is_empty() {
            cut(&head, limit).to_owned()
        } else {
            tail
        };
    };
    let kept = shorten(&head, room);
    if kept.is_empty() {
        return tail;
    }
    format!("{kept}{ELLIPSIS}{separator}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::{Random, SeededRandom};

    #[test]
    fn the_basic_set_is_one_septet_and_the_extension_table_two() {
        assert_eq!(gsm7_len("Hello @all: £5, ¿qué?"), Some(21));
        assert_eq!(gsm7_len("ÄÖÑÜ§äöñüàèéùìòÇØøÅåÆæßÉΔΦΓΛΩΠΨΣΘΞ¤¡¿"), Some(37));
        assert_eq!(gsm7_len("\r\n"), Some(2));
        for c in ['^', '{', '}', '\\', '[', '~', ']', '|', '€', '\u{0C}'] {
            assert!(is_gsm7(c), "{c:?}");
            assert_eq!(gsm7_len(&c.to_string()), Some(2), "{c:?}");
        }
        assert_eq!(gsm7_len("a{b}c"), Some(7));
        assert_eq!(gsm7_len("€10"), Some(4));
        assert_eq!(gsm7_len(""), Some(0));
    }

    #[test]
    fn characters_outside_the_alphabet_have_no_gsm7_length() {
        for text in [
            "`",
            "“quoted”",
            "é\u{301}",
            "🔥",
            "naïve",
            "\t",
            "ç",
            "日本",
        ] {
            assert_eq!(gsm7_len(text), None, "{text:?}");
        }
        assert!(!is_gsm7('`'));
        assert!(!is_gsm7('\u{A0}'));
        assert!(!is_gsm7('\u{1B}'), "the escape itself is not a character");
    }

    #[test]
    fn typography_becomes_plain_text() {
        assert_eq!(
            to_gsm7("“API” isn’t up — retry…\u{A0}now – ok"),
            "\"API\" isn't up - retry... now - ok"
        );
        assert_eq!(to_gsm7("a\u{200B}b\u{AD}c\td"), "abc d");
        assert_eq!(to_gsm7("`code`"), "'code'");
    }

    #[test]
    fn accents_the_alphabet_has_stay_and_the_others_go() {
        let kept = "éèàùìòñüöäÄÖÑÜÅåÆæøØßÇÉ";
        assert_eq!(to_gsm7(kept), kept);
        assert_eq!(
            to_gsm7("ça naïve façade, São Paulo, Łódź"),
            "ca naive facade, Sao Paulo, Lodz"
        );
        assert_eq!(to_gsm7("Ångström Œuvre"), "Ångström OEuvre");
        // Decomposed accents compose where the alphabet has the letter.
        assert_eq!(to_gsm7("e\u{301}te\u{301} n\u{303}u\u{308}"), "été ñü");
        assert_eq!(to_gsm7("i\u{302}le"), "ile");
    }

    #[test]
    fn everything_else_is_one_question_mark_per_visible_character() {
        assert_eq!(to_gsm7("down 🔥"), "down ?");
        assert_eq!(
            to_gsm7("❤\u{FE0F}"),
            "?",
            "emoji with presentation selector"
        );
        assert_eq!(to_gsm7("👩\u{200D}💻 ok"), "? ok", "ZWJ sequence");
        assert_eq!(to_gsm7("🇪🇸"), "?", "a flag is two code points");
        assert_eq!(to_gsm7("日本"), "??");
        assert_eq!(to_gsm7("line\r\nnext"), "line\r\nnext");
        let converted = to_gsm7("mixed “x” 🔥 Ł – … ç 日 `{€}`");
        assert!(gsm7_len(&converted).is_some(), "{converted}");
    }

    #[test]
    fn a_short_message_is_kept_whole() {
        assert_eq!(
            fit("API down", "Reply ack 1234", SEGMENT_SEPTETS),
            "API down Reply ack 1234"
        );
        assert_eq!(fit("", "Reply ack 1234", 160), "Reply ack 1234");
        assert_eq!(fit("API down", "", 160), "API down");
        assert_eq!(fit("“API” down", "ack", 160), "\"API\" down ack");
    }

    #[test]
    fn a_long_head_is_cut_after_a_word_and_the_tail_is_kept() {
        let tail = "Reply \"ack 4821\" or https://status.acme.example/ack/abc";
        let head = "Public API is down since 10:04 UTC: HTTP 503 from https://api.acme.example/health on 3 of 3 checks, \
                    error rate climbing in eu-west-1 and us-east-1";
        let sms = fit(head, tail, SEGMENT_SEPTETS);
        assert!(
            gsm7_len(&sms).is_some_and(|n| n <= SEGMENT_SEPTETS),
            "{sms}"
        );
        assert!(sms.ends_with(&format!("... {tail}")), "{sms}");
        // The cut falls inside "error": the head ends after the word before it, without
        // the comma.
        assert_eq!(
            sms.trim_end_matches(&format!("... {tail}")),
            "Public API is down since 10:04 UTC: HTTP 503 from https://api.acme.example/health on 3 of 3 checks"
        );
    }

    #[test]
    fn extension_characters_count_twice_when_fitting() {
        // 10 braces are 20 septets; with a 5-septet tail, a space and the ellipsis, 11
        // septets of room remain: five braces, not eleven.
        let sms = fit(&"{".repeat(10), "ack 1", 20);
        assert_eq!(sms, "{{{{{... ack 1");
        assert_eq!(gsm7_len(&sms), Some(19));
        let euro = fit("€€€€€€€€€€ total", "x", 10);
        assert!(gsm7_len(&euro).is_some_and(|n| n <= 10), "{euro}");
    }

    #[test]
    fn one_long_word_is_cut_inside_it() {
        let sms = fit(&"a".repeat(300), "ack 1", 20);
        assert_eq!(sms, format!("{}... ack 1", "a".repeat(11)));
    }

    #[test]
    fn a_tail_that_fills_the_message_drops_the_head_and_a_too_long_tail_is_cut() {
        assert_eq!(fit("API down", "0123456789", 12), "0123456789");
        assert_eq!(fit("API down", "0123456789", 14), "0123456789");
        assert_eq!(fit("API down", "0123456789", 15), "A... 0123456789");
        assert_eq!(fit("API down", "0123456789", 5), "01234");
        assert_eq!(fit("API", "ab{cd", 3), "ab");
        assert_eq!(fit("API down now", "", 6), "API...");
        assert_eq!(fit("API down now", "", 2), "AP");
    }

    #[test]
    fn every_fitted_message_is_gsm7_within_the_limit_and_keeps_its_tail() {
        let alphabet: Vec<char> =
            "abcdefghij ABC 0123 .,:;-!?@£$¥éÉñ{}[]~^|\\€\u{0C}\n“”‘’–—…\u{A0}ç日🔥Łá`\t"
                .chars()
                .collect();
        let random = SeededRandom::new(38);
        let text = |max_len: u64| -> String {
            let len = random.up_to(max_len);
            (0..len)
                .map(|_| alphabet[random.up_to(alphabet.len() as u64 - 1) as usize])
                .collect()
        };
        for _ in 0..5_000 {
            let head = text(250);
            let tail = text(60);
            let limit = random.up_to(200) as usize;
            let sms = fit(&head, &tail, limit);
            let len = gsm7_len(&sms);
            assert!(
                len.is_some_and(|n| n <= limit),
                "{len:?} > {limit}: {head:?} + {tail:?} -> {sms:?}"
            );
            let tail_gsm = to_gsm7(tail.trim());
            if septets_of(&tail_gsm) <= limit {
                assert!(sms.ends_with(&tail_gsm), "{tail_gsm:?} kept in {sms:?}");
            } else {
                assert!(
                    tail_gsm.starts_with(&sms),
                    "{sms:?} is a cut of {tail_gsm:?}"
                );
            }
            let whole = format!("{} {}", to_gsm7(head.trim()), tail_gsm);
            if septets_of(whole.trim()) <= limit {
                assert_eq!(sms, whole.trim(), "a message that fits is not cut");
            }
        }
    }
}
