//! Kubernetes resource quantities (`100m`, `128Mi`, `1e3`): parsing, comparison and the
//! canonical form Kubernetes prints, following `k8s.io/apimachinery/pkg/api/resource`.

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

/// The sentence Kubernetes uses for a malformed quantity.
pub const FORMAT_ERROR: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/// A quantity as written in a spec. It keeps the text; [`Quantity::amount`] parses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quantity(String);

/// Why a quantity could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// The text is not of the quantity grammar.
    #[error("{FORMAT_ERROR}")]
    Format,
    /// The suffix is not one Kubernetes knows.
    #[error("unable to parse quantity's suffix")]
    Suffix,
}

/// How a quantity was written, which decides how it is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Powers of 1024: `Ki`, `Mi`, ...
    BinarySI,
    /// Powers of 1000: `m`, `k`, `M`, ... or none.
    DecimalSI,
    /// An exponent: `1e3`.
    DecimalExponent,
}

/// A parsed quantity, exact to 10^-9 as in Kubernetes (finer values round up).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Amount {
    nanos: i128,
    format: Format,
}

const NANO: i128 = 1_000_000_000;
/// Kubernetes caps quantities at 2^63-1.
const MAX_NANOS: i128 = (i64::MAX as i128) * NANO;

impl Quantity {
    /// A quantity from its text.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Parses the text.
    pub fn amount(&self) -> Result<Amount, QuantityError> {
        Amount::parse(&self.0)
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.amount() {
            Ok(a) => f.write_str(&a.canonical()),
            Err(_) => f.write_str(&self.0),
        }
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Kubernetes stores and prints the canonical form.
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Kubernetes accepts a JSON number as well as a string.
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) => Ok(Quantity(s)),
            serde_json::Value::Number(n) => Ok(Quantity(n.to_string())),
            other => Err(de::Error::custom(format!("a quantity must be a string or a number, got {other}"))),
        }
    }
}

impl JsonSchema for Quantity {
    fn schema_name() -> Cow<'static, str> {
        "Quantity".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A Kubernetes quantity such as \"100m\", \"0.5\", \"128Mi\" or \"1G\".",
            "anyOf": [{"type": "number"}, {"type": "string", "pattern": "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"}],
            "format": "quantity",
            "x-kubernetes-int-or-string": true
        })
    }
}

fn pow10(e: u32) -> Option<i128> {
    10i128.checked_pow(e)
}

impl Amount {
    /// Parses a quantity the way `resource.ParseQuantity` does.
    pub fn parse(s: &str) -> Result<Amount, QuantityError> {
        if s.is_empty() {
            return Err(QuantityError::Format);
        }
        let b = s.as_bytes();
        let mut pos = 0;
        let mut negative = false;
        match b[0] {
            b'-' => {
                negative = true;
                pos = 1;
            }
            b'+' => pos = 1,
            _ => {}
        }
        let int_start = pos;
        while pos < b.len() && b[pos].is_ascii_digit() {
            pos += 1;
        }
        let int_part = &s[int_start..pos];
        let mut frac_part = "";
        if int_part.is_empty() && b.get(pos) != Some(&b'.') {
            return Err(QuantityError::Format);
        }
        if pos < b.len() && b[pos] == b'.' {
            pos += 1;
            let frac_start = pos;
            while pos < b.len() && b[pos].is_ascii_digit() {
                pos += 1;
            }
            frac_part = &s[frac_start..pos];
        }
        let suffix_start = pos;
        while pos < b.len() && b"eEinumkKMGTP".contains(&b[pos]) {
            pos += 1;
        }
        if pos < b.len() && (b[pos] == b'-' || b[pos] == b'+') {
            pos += 1;
        }
        while pos < b.len() && b[pos].is_ascii_digit() {
            pos += 1;
        }
        if pos != b.len() {
            return Err(QuantityError::Format);
        }
        let suffix = &s[suffix_start..];
        let (base2, exp, format) = interpret_suffix(suffix).ok_or(QuantityError::Suffix)?;

        // digits × 10^(exp10) × 2^(base2), in nano units
        let digits = format!("{int_part}{frac_part}");
        let digits = digits.trim_start_matches('0');
        let exp10 = if base2 { 0 } else { exp } - frac_part.len() as i64 + 9;
        let nanos = if digits.is_empty() { 0 } else { scaled(digits, exp10, if base2 { exp } else { 0 }) };
        let mut format = format;
        if format == Format::BinarySI && nanos > 0 && nanos < NANO {
            format = Format::DecimalSI;
        }
        Ok(Amount { nanos: if negative { -nanos } else { nanos }, format })
    }

    /// Compares two amounts by value.
    pub fn cmp_value(&self, other: &Amount) -> Ordering {
        self.nanos.cmp(&other.nanos)
    }

    /// Whether the amount is below zero.
    pub fn is_negative(&self) -> bool {
        self.nanos < 0
    }

    /// Whether the amount is zero.
    pub fn is_zero(&self) -> bool {
        self.nanos == 0
    }

    /// The value in thousandths, rounded up (Kubernetes' `MilliValue`).
    pub fn milli_value(&self) -> i128 {
        ceil_div(self.nanos, 1_000_000)
    }

    /// The value rounded up to a whole number (Kubernetes' `Value`).
    pub fn value(&self) -> i128 {
        ceil_div(self.nanos, NANO)
    }

    /// The canonical text Kubernetes prints for this amount (`1000m` → `1`, `1024Mi` → `1Gi`).
    pub fn canonical(&self) -> String {
        if self.nanos == 0 {
            return "0".to_owned();
        }
        let mut format = self.format;
        if format == Format::BinarySI && (self.nanos.abs() < 1024 * NANO || self.nanos % NANO != 0) {
            format = Format::DecimalSI;
        }
        let sign = if self.nanos < 0 { "-" } else { "" };
        let abs = self.nanos.abs();
        if format == Format::BinarySI {
            let mut n = abs / NANO;
            let mut e = 0;
            while n % 1024 == 0 && e < 6 {
                n /= 1024;
                e += 1;
            }
            let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][e];
            return format!("{sign}{n}{suffix}");
        }
        // Remove factors of ten, then step down to an exponent that is a multiple of three.
        let mut m = abs;
        let mut e: i64 = -9;
        while m % 10 == 0 {
            m /= 10;
            e += 1;
        }
        while e.rem_euclid(3) != 0 {
            m *= 10;
            e -= 1;
        }
        let suffix = if format == Format::DecimalExponent {
            if e == 0 {
                String::new()
            } else {
                format!("e{e}")
            }
        } else {
            match e {
                -9 => "n".into(),
                -6 => "u".into(),
                -3 => "m".into(),
                0 => String::new(),
                3 => "k".into(),
                6 => "M".into(),
                9 => "G".into(),
                12 => "T".into(),
                15 => "P".into(),
                18 => "E".into(),
                _ => format!("e{e}"),
            }
        };
        format!("{sign}{m}{suffix}")
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

fn ceil_div(a: i128, b: i128) -> i128 {
    let q = a.div_euclid(b);
    if a.rem_euclid(b) == 0 {
        q
    } else {
        q + 1
    }
}

/// `digits` (no leading zeros, not empty) × 2^pow2 × 10^exp10, rounded up, capped at 2^63-1 units.
fn scaled(digits: &str, exp10: i64, pow2: i64) -> i128 {
    // Anything with more than 38 significant digits above the nano scale is over the cap anyway.
    if exp10 >= 0 && digits.len() as i64 + exp10 > 38 {
        return MAX_NANOS;
    }
    let keep = if exp10 < 0 { digits.len() as i64 + exp10 } else { digits.len() as i64 };
    if keep > 38 {
        return MAX_NANOS;
    }
    let (head, tail) = if keep <= 0 { ("", digits) } else { digits.split_at(keep as usize) };
    let mut n: i128 = if head.is_empty() { 0 } else { head.parse().unwrap_or(MAX_NANOS) };
    if exp10 > 0 {
        n = match pow10(exp10 as u32).and_then(|p| n.checked_mul(p)) {
            Some(v) => v,
            None => return MAX_NANOS,
        };
    }
    let pow2 = pow2.clamp(0, 60) as u32;
    n = match n.checked_mul(1i128 << pow2) {
        Some(v) => v,
        None => return MAX_NANOS,
    };
    let fraction_left = tail.bytes().any(|c| c != b'0');
    if fraction_left {
        if pow2 == 0 {
            n += 1;
        } else {
            // The dropped fraction, scaled by 2^pow2, may be worth more than one nano.
            let take = tail.len().min(30);
            let frac: i128 = tail[..take].parse().unwrap_or(0);
            let denom = pow10(take as u32).unwrap_or(i128::MAX);
            n += ceil_div(frac.saturating_mul(1i128 << pow2), denom).max(1);
        }
    }
    n.min(MAX_NANOS)
}

/// (is binary, exponent, format) for a suffix.
fn interpret_suffix(suffix: &str) -> Option<(bool, i64, Format)> {
    let decimal = |e| Some((false, e, Format::DecimalSI));
    let binary = |e| Some((true, e, Format::BinarySI));
    match suffix {
        "" => decimal(0),
        "n" => decimal(-9),
        "u" => decimal(-6),
        "m" => decimal(-3),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        "E" => decimal(18),
        "Ki" => binary(10),
        "Mi" => binary(20),
        "Gi" => binary(30),
        "Ti" => binary(40),
        "Pi" => binary(50),
        "Ei" => binary(60),
        _ => {
            let rest = suffix.strip_prefix(['e', 'E'])?;
            let e: i64 = rest.parse().ok()?;
            Some((false, e, Format::DecimalExponent))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        Amount::parse(s).unwrap().canonical()
    }

    #[test]
    fn canonical_forms_match_kubernetes() {
        for (input, want) in [
            ("0", "0"),
            ("1000m", "1"),
            ("1500m", "1500m"),
            ("0.5", "500m"),
            ("1k", "1k"),
            ("1000", "1k"),
            ("1024", "1024"),
            ("1024Mi", "1Gi"),
            ("1Ki", "1Ki"),
            ("1536Ki", "1536Ki"),
            ("0.5Gi", "512Mi"),
            ("1e3", "1e3"),
            ("1.5e3", "1500"),
            ("100m", "100m"),
            ("128Mi", "128Mi"),
            ("-1", "-1"),
            ("0.0000000001", "1n"),
            (".5", "500m"),
            ("1.", "1"),
            ("12e6", "12e6"),
        ] {
            assert_eq!(canon(input), want, "{input}");
        }
    }

    #[test]
    fn malformed_quantities_are_refused() {
        for bad in ["", "abc", "1.2.3", "1Kb", "1 Mi", "--1", "1e", "1i", "Mi"] {
            assert!(Amount::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn values_compare_and_round_like_kubernetes() {
        let a = Amount::parse("1").unwrap();
        let b = Amount::parse("1000m").unwrap();
        assert_eq!(a.cmp_value(&b), Ordering::Equal);
        assert_eq!(Amount::parse("1.5").unwrap().milli_value(), 1500);
        assert_eq!(Amount::parse("1500m").unwrap().value(), 2);
        assert_eq!(Amount::parse("1e30").unwrap().value(), i64::MAX as i128);
        assert!(Amount::parse("-5m").unwrap().is_negative());
    }
}
