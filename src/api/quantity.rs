//! Kubernetes resource quantities (`100m`, `1.5Gi`, `2e3`): parsing,
//! canonical formatting, comparison and milli-values.
//!
//! Upstream truth: `k8s.io/apimachinery/pkg/api/resource/quantity.go`
//! (`ParseQuantity`, `parseQuantityString`, `CanonicalizeBytes`) and
//! `suffix.go`. The value is held exactly as a count of nano-units
//! (`i128`), which covers every quantity upstream keeps in an `int64`
//! mantissa; non-zero values finer than 1n round up (away from zero) to 1n
//! as upstream does.

use std::cmp::Ordering;
use std::fmt;

/// The regular expression upstream quotes in `ErrFormatWrong`.
pub const SPLIT_RE: &str = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

/// Parse errors, with upstream's exact texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantityError {
    /// `ErrFormatWrong`
    FormatWrong,
    /// `ErrNumeric`
    Numeric,
    /// `ErrSuffix`
    Suffix,
}

impl fmt::Display for QuantityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FormatWrong => write!(
                f,
                "quantities must match the regular expression '{SPLIT_RE}'"
            ),
            Self::Numeric => f.write_str("unable to parse numeric part of quantity"),
            Self::Suffix => f.write_str("unable to parse quantity's suffix"),
        }
    }
}

impl std::error::Error for QuantityError {}

/// How a quantity is written back out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    DecimalExponent,
    BinarySI,
    DecimalSI,
}

/// A parsed quantity: an exact nano-unit count plus the suffix family.
#[derive(Debug, Clone, Copy)]
pub struct Quantity {
    nanos: i128,
    format: Format,
}

const NANO: i128 = 1_000_000_000;
/// `math.MaxInt64`: BinarySI amounts are capped here.
const MAX_INT64: i128 = i64::MAX as i128;

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.nanos == other.nanos
    }
}
impl Eq for Quantity {}
impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        self.nanos.cmp(&other.nanos)
    }
}

/// Pieces found by the scanner: sign, integer digits, fraction digits, suffix.
struct Scanned<'a> {
    positive: bool,
    num: &'a str,
    denom: &'a str,
    suffix: &'a str,
}

fn is_digit(b: u8) -> bool {
    b.is_ascii_digit()
}

/// Mirrors `parseQuantityString`.
fn scan(s: &str) -> Result<Scanned<'_>, QuantityError> {
    let b = s.as_bytes();
    let end = b.len();
    let mut pos = 0;
    let mut positive = true;
    if pos < end {
        match b[0] {
            b'-' => {
                positive = false;
                pos += 1;
            }
            b'+' => pos += 1,
            _ => {}
        }
    }
    while pos < end && b[pos] == b'0' {
        pos += 1;
    }
    if pos >= end {
        return Ok(Scanned {
            positive,
            num: "0",
            denom: "",
            suffix: "",
        });
    }
    let num_start = pos;
    while pos < end && is_digit(b[pos]) {
        pos += 1;
    }
    let mut num = &s[num_start..pos];
    if num.is_empty() {
        num = "0";
    }
    let mut denom = "";
    if pos < end && b[pos] == b'.' {
        pos += 1;
        let d_start = pos;
        while pos < end && is_digit(b[pos]) {
            pos += 1;
        }
        denom = &s[d_start..pos];
    }
    let suffix_start = pos;
    while pos < end && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos < end && (b[pos] == b'-' || b[pos] == b'+') {
        pos += 1;
    }
    while pos < end && is_digit(b[pos]) {
        pos += 1;
    }
    if pos < end {
        return Err(QuantityError::FormatWrong);
    }
    Ok(Scanned {
        positive,
        num,
        denom,
        suffix: &s[suffix_start..],
    })
}

/// `suffixer.interpret`: (base, exponent, format).
fn interpret(suffix: &str) -> Option<(u32, i32, Format)> {
    let dec = |e| Some((10, e, Format::DecimalSI));
    let bin = |e| Some((2, e, Format::BinarySI));
    match suffix {
        "" => dec(0),
        "n" => dec(-9),
        "u" => dec(-6),
        "m" => dec(-3),
        "k" => dec(3),
        "M" => dec(6),
        "G" => dec(9),
        "T" => dec(12),
        "P" => dec(15),
        "E" => dec(18),
        "Ki" => bin(10),
        "Mi" => bin(20),
        "Gi" => bin(30),
        "Ti" => bin(40),
        "Pi" => bin(50),
        "Ei" => bin(60),
        s if s.len() > 1 && (s.starts_with('e') || s.starts_with('E')) => {
            let e: i32 = s[1..].parse().ok()?;
            Some((10, e, Format::DecimalExponent))
        }
        _ => None,
    }
}

fn pow10(e: u32) -> Option<i128> {
    10i128.checked_pow(e)
}

impl Quantity {
    /// `resource.ParseQuantity`.
    pub fn parse(s: &str) -> Result<Self, QuantityError> {
        if s.is_empty() {
            return Err(QuantityError::FormatWrong);
        }
        let sc = scan(s)?;
        let (base, exp, format) = interpret(sc.suffix).ok_or(QuantityError::Suffix)?;
        // All digits as one integer with `denom.len()` decimal places
        // (`scan` keeps only ASCII digits in both), read without a copy.
        let mut mantissa: i128 = 0;
        let mut significant = 0usize;
        for d in sc.num.bytes().chain(sc.denom.bytes()) {
            if significant == 0 && d == b'0' {
                continue;
            }
            significant += 1;
            if significant <= 36 {
                mantissa = mantissa * 10 + i128::from(d - b'0');
            }
        }
        if significant > 36 {
            // Beyond what upstream keeps meaningfully; saturate.
            mantissa = i128::MAX / 4;
        }
        let scale = sc.denom.len() as i32;
        let mut nanos = if base == 10 {
            scale_nanos(mantissa, exp - scale + 9)
        } else {
            let shifted = mantissa
                .checked_mul(1i128 << exp.clamp(0, 60))
                .unwrap_or(i128::MAX / 4);
            scale_nanos(shifted, 9 - scale)
        };
        let mut format = format;
        if format == Format::BinarySI {
            nanos = nanos.min(MAX_INT64.saturating_mul(NANO));
            if nanos > 0 && nanos < NANO {
                format = Format::DecimalSI;
            }
        }
        if !sc.positive {
            nanos = -nanos;
        }
        Ok(Self { nanos, format })
    }

    /// A quantity of whole units in the given format.
    pub fn from_units(units: i64, format: Format) -> Self {
        Self {
            nanos: units as i128 * NANO,
            format,
        }
    }

    /// A quantity of milli-units (`100m`).
    pub fn from_millis(millis: i64) -> Self {
        Self {
            nanos: millis as i128 * 1_000_000,
            format: Format::DecimalSI,
        }
    }

    pub fn format(&self) -> Format {
        self.format
    }
    pub fn is_zero(&self) -> bool {
        self.nanos == 0
    }
    pub fn is_negative(&self) -> bool {
        self.nanos < 0
    }
    /// Signum: -1, 0 or 1 (`Quantity.Sign`).
    pub fn sign(&self) -> i32 {
        self.nanos.signum() as i32
    }
    /// Exact amount in nano-units.
    pub fn nanos(&self) -> i128 {
        self.nanos
    }

    /// `Quantity.MilliValue()`: rounds up (away from zero).
    pub fn milli_value(&self) -> i64 {
        clamp_i64(div_round_up(self.nanos, 1_000_000))
    }

    /// `Quantity.Value()`: whole units, rounding up (away from zero).
    pub fn value(&self) -> i64 {
        clamp_i64(div_round_up(self.nanos, NANO))
    }

    pub fn add(&self, other: &Quantity) -> Quantity {
        Quantity {
            nanos: self.nanos.saturating_add(other.nanos),
            format: self.format,
        }
    }
    pub fn sub(&self, other: &Quantity) -> Quantity {
        Quantity {
            nanos: self.nanos.saturating_sub(other.nanos),
            format: self.format,
        }
    }

    /// The canonical string (`Quantity.String()`).
    pub fn canonical(&self) -> String {
        if self.nanos == 0 {
            return "0".into();
        }
        let neg = self.nanos < 0;
        let abs = self.nanos.unsigned_abs();
        let mut format = self.format;
        if format == Format::BinarySI
            && (abs < 1024 * NANO as u128 || !abs.is_multiple_of(NANO as u128))
        {
            format = Format::DecimalSI;
        }
        let (mantissa, suffix) = match format {
            Format::BinarySI => {
                let mut m = abs / NANO as u128;
                let mut e = 0;
                while e < 60 && m.is_multiple_of(1024) {
                    m /= 1024;
                    e += 10;
                }
                let suf = match e {
                    0 => "",
                    10 => "Ki",
                    20 => "Mi",
                    30 => "Gi",
                    40 => "Ti",
                    50 => "Pi",
                    _ => "Ei",
                };
                (m, suf.to_string())
            }
            Format::DecimalSI | Format::DecimalExponent => {
                let mut m = abs;
                let mut e: i32 = -9;
                while m.is_multiple_of(1000) {
                    m /= 1000;
                    e += 3;
                }
                if format == Format::DecimalSI {
                    // Largest decimal SI suffix is E (1e18).
                    while e > 18 {
                        m *= 1000;
                        e -= 3;
                    }
                    let suf = match e {
                        -9 => "n",
                        -6 => "u",
                        -3 => "m",
                        0 => "",
                        3 => "k",
                        6 => "M",
                        9 => "G",
                        12 => "T",
                        15 => "P",
                        _ => "E",
                    };
                    (m, suf.to_string())
                } else if e == 0 {
                    (m, String::new())
                } else {
                    (m, format!("e{e}"))
                }
            }
        };
        format!("{}{mantissa}{suffix}", if neg { "-" } else { "" })
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

/// `mantissa * 10^shift`, rounding a fractional remainder up to the next nano.
fn scale_nanos(mantissa: i128, shift: i32) -> i128 {
    if mantissa == 0 {
        return 0;
    }
    if shift >= 0 {
        pow10(shift as u32)
            .and_then(|p| mantissa.checked_mul(p))
            .unwrap_or(i128::MAX / 4)
    } else {
        match pow10((-shift) as u32) {
            Some(p) => div_round_up(mantissa, p),
            None => 1,
        }
    }
}

fn div_round_up(n: i128, d: i128) -> i128 {
    let q = n / d;
    if n % d == 0 {
        q
    } else if n > 0 {
        q + 1
    } else {
        q - 1
    }
}

fn clamp_i64(v: i128) -> i64 {
    v.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// Parses a JSON quantity as stored: a string, or (as upstream's
/// unmarshaller accepts) a bare number.
pub fn parse_value(v: &serde_json::Value) -> Result<Quantity, QuantityError> {
    match v {
        serde_json::Value::String(s) => Quantity::parse(s),
        serde_json::Value::Number(n) => Quantity::parse(&n.to_string()),
        _ => Err(QuantityError::FormatWrong),
    }
}

/// True when two JSON quantities denote the same amount (`500m` == `0.5`);
/// unparsable values compare as raw JSON.
pub fn same_value(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    match (parse_value(a), parse_value(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_value_compares_amounts() {
        assert!(same_value(
            &serde_json::json!("500m"),
            &serde_json::json!("0.5")
        ));
        assert!(same_value(
            &serde_json::json!("1Gi"),
            &serde_json::json!("1024Mi")
        ));
        assert!(!same_value(
            &serde_json::json!("1G"),
            &serde_json::json!("1Gi")
        ));
    }

    fn canon(s: &str) -> String {
        Quantity::parse(s)
            .map(|q| q.canonical())
            .unwrap_or_else(|e| format!("ERR {e}"))
    }

    #[test]
    fn canonical_forms_match_upstream() {
        for (input, want) in [
            ("0", "0"),
            ("100m", "100m"),
            ("0.5", "500m"),
            ("1.5", "1500m"),
            ("1500", "1500"),
            ("2000", "2k"),
            ("1.5Gi", "1536Mi"),
            ("1024Mi", "1Gi"),
            ("1Ki", "1Ki"),
            ("512", "512"),
            ("1e3", "1e3"),
            ("1.5e3", "1500"),
            ("0.1m", "100u"),
            ("0.0000000001", "1n"),
            ("-100m", "-100m"),
            ("+5", "5"),
            ("128974848", "128974848"),
            ("129e6", "129e6"),
            ("123Mi", "123Mi"),
            ("1.1Ki", "1126400m"),
            ("0.5Ki", "512"),
            ("1E", "1E"),
            ("2Gi", "2Gi"),
            ("500Mi", "500Mi"),
            ("1000Mi", "1000Mi"),
        ] {
            assert_eq!(canon(input), want, "input {input}");
        }
    }

    #[test]
    fn errors_are_upstream_texts() {
        let wrong = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
        assert_eq!(canon(""), format!("ERR {wrong}"));
        assert_eq!(canon("abc"), format!("ERR {wrong}"));
        assert_eq!(canon("1Gb"), format!("ERR {wrong}"));
        assert_eq!(canon("1.2.3"), format!("ERR {wrong}"));
        assert_eq!(canon("1GG"), "ERR unable to parse quantity's suffix");
        assert_eq!(canon("1e"), "ERR unable to parse quantity's suffix");
    }

    #[test]
    fn compare_and_milli() {
        let a = Quantity::parse("500m").unwrap();
        let b = Quantity::parse("0.5").unwrap();
        assert_eq!(a, b);
        assert!(Quantity::parse("1Gi").unwrap() > Quantity::parse("1G").unwrap());
        assert_eq!(Quantity::parse("1.5").unwrap().milli_value(), 1500);
        assert_eq!(Quantity::parse("1n").unwrap().milli_value(), 1);
        assert_eq!(Quantity::parse("1Mi").unwrap().value(), 1_048_576);
        assert_eq!(Quantity::parse("1500m").unwrap().value(), 2);
        assert!(Quantity::parse("-1").unwrap().is_negative());
        assert_eq!(parse_value(&serde_json::json!(2)).unwrap().canonical(), "2");
        assert_eq!(
            parse_value(&serde_json::json!(0.5)).unwrap().canonical(),
            "500m"
        );
    }
}
