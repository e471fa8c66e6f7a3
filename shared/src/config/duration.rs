//! Durations as people write them in the config: `500ms`, `10s`, `5m`, `1h30m`, `14d`.

use std::time::Duration;

/// Parses a duration made of one or more `<integer><unit>` parts, units `ms`, `s`, `m`,
/// `h`, `d`. Spaces between parts are allowed.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return Err("expected a duration such as `10s`, `500ms`, `5m` or `1h30m`".into());
    }
    let mut total = Duration::ZERO;
    let mut rest = compact.as_str();
    while !rest.is_empty() {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!(
                "`{text}` is not a duration: expected a number before `{rest}` (e.g. `10s`, `500ms`, `1h30m`)"
            ));
        }
        let value: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("`{text}` is too large"))?;
        rest = &rest[digits..];
        let unit_len = rest.chars().take_while(char::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let millis: u64 = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "" => {
                return Err(format!(
                    "`{text}` needs a unit: ms, s, m, h or d (e.g. `{value}s`)"
                ));
            }
            other => {
                return Err(format!(
                    "`{text}` has an unknown unit `{other}`: use ms, s, m, h or d"
                ));
            }
        };
        let part = value
            .checked_mul(millis)
            .ok_or_else(|| format!("`{text}` is too large"))?;
        total = total
            .checked_add(Duration::from_millis(part))
            .ok_or_else(|| format!("`{text}` is too large"))?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use proptest::test_runner::Config as ProptestConfig;

    use super::*;

    /// Each unit with its length in milliseconds, largest first.
    const UNITS: [(&str, u64); 5] = [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ];

    /// Writes milliseconds as the config would, largest unit first (`1d2h30m`), so that
    /// parsing it must give them back.
    fn write_millis(mut millis: u64) -> String {
        let mut text = String::new();
        for (unit, scale) in UNITS {
            if millis >= scale {
                text.push_str(&format!("{}{unit}", millis / scale));
                millis %= scale;
            }
        }
        if text.is_empty() {
            text.push_str("0ms");
        }
        text
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn any_text_parses_or_explains(
            text in prop_oneof![any::<String>(), "[0-9a-zé .+-]{0,12}"],
        ) {
            if let Err(message) = parse_duration(&text) {
                prop_assert!(!message.is_empty());
            }
        }

        #[test]
        fn written_durations_read_back(millis in prop_oneof![0u64..100_000_000, any::<u64>()]) {
            let text = write_millis(millis);
            prop_assert_eq!(parse_duration(&text), Ok(Duration::from_millis(millis)), "{}", text);
        }

        #[test]
        fn parts_add_up_or_are_too_large(
            parts in prop::collection::vec(
                (prop_oneof![0u64..10_000, any::<u64>()], prop::sample::select(UNITS.to_vec())),
                1..5,
            ),
            spaced in any::<bool>(),
        ) {
            let text = parts
                .iter()
                .map(|(amount, (unit, _))| format!("{amount}{unit}"))
                .collect::<Vec<_>>()
                .join(if spaced { " " } else { "" });
            let mut total: u128 = 0;
            let mut too_large = false;
            for (amount, (_, scale)) in &parts {
                match amount.checked_mul(*scale) {
                    Some(part) => total += u128::from(part),
                    None => too_large = true,
                }
            }
            let parsed = parse_duration(&text);
            if too_large {
                prop_assert!(parsed.as_ref().is_err_and(|e| e.contains("too large")), "{:?}", parsed);
            } else {
                let seconds = u64::try_from(total / 1_000).expect("five parts fit");
                let millis = u64::try_from(total % 1_000).expect("below 1000");
                let expected = Duration::from_secs(seconds) + Duration::from_millis(millis);
                prop_assert_eq!(parsed, Ok(expected), "{}", text);
            }
        }
    }

    #[test]
    fn parses_every_unit_and_combinations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("14d"), Ok(Duration::from_secs(14 * 86_400)));
    }

    #[test]
    fn explains_what_is_wrong() {
        assert!(
            parse_duration("")
                .unwrap_err()
                .contains("expected a duration")
        );
        assert!(parse_duration("10").unwrap_err().contains("needs a unit"));
        assert!(
            parse_duration("10 sec")
                .unwrap_err()
                .contains("unknown unit `sec`")
        );
        assert!(
            parse_duration("s")
                .unwrap_err()
                .contains("expected a number")
        );
        assert!(
            parse_duration("-5s")
                .unwrap_err()
                .contains("expected a number")
        );
        assert!(
            parse_duration("99999999999999999999s")
                .unwrap_err()
                .contains("too large")
        );
    }
}
