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
    use super::*;

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
