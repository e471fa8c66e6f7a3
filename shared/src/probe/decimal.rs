//! Exact decimal numbers, for comparing a condition's value with a number in a response.
//!
//! A condition such as `[BODY].balance == 123.40000000000005` must hold when the response says
//! exactly that. Converting both sides to `f64` loses digits (integers beyond 2^53, decimals
//! the parser rounds differently), so numbers are compared here as the decimal text they were
//! written as: `1e3` equals `1000`, `-0` equals `0`, and `9007199254740993` is not
//! `9007199254740992`.

use std::cmp::Ordering;

/// A finite decimal number, normalised so equal values compare equal whatever their spelling.
///
/// The value is `0.d₁d₂…dₙ × 10^exponent`; the digits have no leading or trailing zeros, and
/// zero has no digits and no sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decimal {
    negative: bool,
    digits: Vec<u8>,
    exponent: i128,
}

impl Decimal {
    /// A number written the way conditions and JSON write them: an optional sign, digits, an
    /// optional fraction and an optional exponent (`-12`, `+3.50`, `1e3`, `2.5E-7`). None for
    /// anything else, including exponents too large to hold.
    pub(crate) fn parse(text: &str) -> Option<Decimal> {
        let (negative, unsigned) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
            Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
            None => (unsigned, None),
        };
        let (whole, fraction) = match mantissa.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (mantissa, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || !fraction.is_none_or(digits) {
            return None;
        }
        Decimal::from_parts(negative, whole, fraction.unwrap_or(""), exponent)
    }

    /// A number as response text may write it, which `f64::from_str` would also read: also
    /// `.5` and `5.`, with surrounding whitespace. Never `inf` or `NaN`, which are not numbers
    /// a condition can compare.
    pub(crate) fn parse_lenient(text: &str) -> Option<Decimal> {
        let text = text.trim();
        let (negative, unsigned) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
            Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
            None => (unsigned, None),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction)
        {
            return None;
        }
        Decimal::from_parts(negative, whole, fraction, exponent)
    }

    /// An integer, such as a status code or a number of milliseconds.
    pub(crate) fn from_integer(value: i128) -> Decimal {
        let text = value.unsigned_abs().to_string();
        Decimal::from_parts(value < 0, &text, "", None)
            .expect("the digits of an integer are a decimal")
    }

    /// Normalises checked pieces: `whole` and `fraction` are ASCII digits.
    fn from_parts(
        negative: bool,
        whole: &str,
        fraction: &str,
        exponent: Option<&str>,
    ) -> Option<Decimal> {
        let shift = match exponent {
            None => 0,
            Some(text) => {
                let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
                if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                // i64 bounds the exponent; the digit counts below fit in i128 beside it.
                i128::from(text.parse::<i64>().ok()?)
            }
        };
        let all: Vec<u8> = whole
            .bytes()
            .chain(fraction.bytes())
            .map(|b| b - b'0')
            .collect();
        let Some(first) = all.iter().position(|&d| d != 0) else {
            return Some(Decimal::zero());
        };
        let last = all.iter().rposition(|&d| d != 0).unwrap_or(first);
        let whole_len = i128::try_from(whole.len()).ok()?;
        let leading = i128::try_from(first).ok()?;
        Some(Decimal {
            negative,
            digits: all[first..=last].to_vec(),
            exponent: whole_len - leading + shift,
        })
    }

    fn zero() -> Decimal {
        Decimal {
            negative: false,
            digits: Vec::new(),
            exponent: 0,
        }
    }

    fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// Compares absolute values.
    fn cmp_magnitude(&self, other: &Decimal) -> Ordering {
        match (self.is_zero(), other.is_zero()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            // Both start with a non-zero digit right after the point, so the exponent decides
            // first and then the digits, compared as fractions (a missing digit is a zero).
            (false, false) => self
                .exponent
                .cmp(&other.exponent)
                .then_with(|| self.digits.cmp(&other.digits)),
        }
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        let sign = |d: &Decimal| match (d.is_zero(), d.negative) {
            (true, _) => 0,
            (false, true) => -1,
            (false, false) => 1,
        };
        match sign(self).cmp(&sign(other)) {
            Ordering::Equal if self.negative && !self.is_zero() => other.cmp_magnitude(self),
            Ordering::Equal => self.cmp_magnitude(other),
            unequal => unequal,
        }
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decimal(text: &str) -> Decimal {
        Decimal::parse(text).unwrap_or_else(|| panic!("`{text}` should be a number"))
    }

    #[test]
    fn spellings_of_one_value_are_equal() {
        for group in [
            &["0", "-0", "+0", "0.000", "0e5", "-0.0e-3", "00"][..],
            &["1000", "1e3", "1E+3", "1000.0", "10e2", "0.001e6", "+1000"],
            &[
                "123.40000000000005",
                "12340000000000005e-14",
                "1.2340000000000005e2",
            ],
            &["-2.5", "-25e-1", "-0.25E1", "-2.50"],
        ] {
            for a in group {
                for b in group {
                    assert_eq!(decimal(a), decimal(b), "{a} and {b}");
                    assert_eq!(decimal(a).cmp(&decimal(b)), Ordering::Equal, "{a} and {b}");
                }
            }
        }
    }

    #[test]
    fn digits_beyond_a_double_are_kept() {
        assert_ne!(decimal("9007199254740993"), decimal("9007199254740992"));
        assert!(decimal("9007199254740993") > decimal("9007199254740992"));
        assert_ne!(decimal("123.40000000000005"), decimal("123.40000000000003"));
        assert!(decimal("0.1") < decimal("0.10000000000000001"));
        assert!(decimal("18446744073709551617") > decimal("18446744073709551616"));
        assert!(decimal("1e400") > decimal("9.99e399"));
        assert!(decimal("-1e400") < decimal("-9.99e399"));
    }

    #[test]
    fn orders_across_signs_and_scales() {
        let ascending = [
            "-1e20", "-100", "-2.5", "-2", "-0.5", "-1e-9", "0", "1e-9", "0.5", "2", "2.5", "10",
            "99.99", "100", "1e20",
        ];
        for (i, a) in ascending.iter().enumerate() {
            for (j, b) in ascending.iter().enumerate() {
                assert_eq!(decimal(a).cmp(&decimal(b)), i.cmp(&j), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn integers_match_their_text() {
        for value in [
            0,
            1,
            -1,
            200,
            -86_400_000,
            i128::from(u64::MAX),
            i128::MIN,
            i128::MAX,
        ] {
            assert_eq!(Decimal::from_integer(value), decimal(&value.to_string()));
        }
    }

    #[test]
    fn only_numbers_parse() {
        for text in [
            "",
            "-",
            "+",
            ".",
            "e3",
            "1e",
            "1e+",
            "1.",
            ".5",
            "1.2.3",
            "1,5",
            "0x10",
            "1_000",
            "inf",
            "NaN",
            " 1",
            "1 ",
            "--1",
            "1e99999999999999999999",
            "١٢",
        ] {
            assert_eq!(Decimal::parse(text), None, "`{text}`");
        }
    }

    #[test]
    fn response_text_may_be_looser() {
        assert_eq!(Decimal::parse_lenient(" .5\n"), Some(decimal("0.5")));
        assert_eq!(Decimal::parse_lenient("5."), Some(decimal("5")));
        assert_eq!(Decimal::parse_lenient("+42"), Some(decimal("42")));
        for text in ["", ".", "-.", "inf", "-infinity", "NaN", "0x1", "e5", "1e"] {
            assert_eq!(Decimal::parse_lenient(text), None, "`{text}`");
        }
    }
}
