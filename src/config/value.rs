//! Value readers shared by ha.cf, haresources and authkeys: times, booleans,
//! bounded integers, and the provenance of every setting.

use crate::time::Time;
use serde::{Serialize, Serializer};
use std::fmt;

/// The longest time ha.cf may name: a week. Longer is a typo, and keeping
/// the bound low leaves room for arithmetic (2 × deadtime) without overflow.
pub const TIME_MAX: Time = Time::from_secs(7 * 24 * 3600);

/// What a time value looks like, for error messages.
pub const TIME_FORM: &str = "seconds (`2`, `1.5`), or a number with `ms` or `us` (`500ms`)";

/// Parses Heartbeat's time syntax (cluster-glue `cl_get_msec`): a decimal
/// number of seconds, optionally with a fraction, or a number followed by
/// `ms`, `us` or `s`. Negative values and anything else are refused.
pub fn parse_time(text: &str) -> Result<Time, String> {
    let bad = || format!("`{text}` is not a time; expected {TIME_FORM}");
    let (number, unit_micros) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1_000u64)
    } else if let Some(n) = text.strip_suffix("us") {
        (n, 1u64)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1_000_000u64)
    } else {
        (text, 1_000_000u64)
    };
    let (whole, frac) = match number.split_once('.') {
        Some((w, f)) => (w, f),
        None => (number, ""),
    };
    if whole.is_empty() && frac.is_empty() {
        return Err(bad());
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let too_long = || format!("`{text}` is too long; at most {}", TIME_MAX);
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| too_long())?
    };
    let mut micros = whole.checked_mul(unit_micros).ok_or_else(too_long)?;
    // Fractions finer than a microsecond cannot be kept: refuse rather
    // than silently round a value the operator wrote on purpose.
    let mut scale = unit_micros;
    for digit in frac.bytes() {
        let d = u64::from(digit - b'0');
        if scale % 10 != 0 {
            if d != 0 {
                return Err(format!(
                    "`{text}` is finer than a microsecond; expected {TIME_FORM}"
                ));
            }
            continue;
        }
        scale /= 10;
        micros = micros.checked_add(d * scale).ok_or_else(too_long)?;
    }
    let time = Time::from_micros(micros);
    if time > TIME_MAX {
        return Err(too_long());
    }
    Ok(time)
}

/// Heartbeat's booleans (cluster-glue `cl_str_to_boolean`), any case.
pub fn parse_bool(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "on" | "yes" | "y" | "1" => Ok(true),
        "false" | "off" | "no" | "n" | "0" => Ok(false),
        _ => Err(format!(
            "`{text}` is not a boolean; expected on/off, yes/no, true/false, y/n or 1/0"
        )),
    }
}

/// A decimal integer within `min..=max`.
pub fn parse_in<T>(text: &str, min: T, max: T, what: &str) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
{
    let bad = || format!("`{text}` is not {what} from {min} to {max}");
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let value: T = text.parse().map_err(|_| bad())?;
    if value < min || value > max {
        return Err(bad());
    }
    Ok(value)
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Not in any file: the built-in default, with how it was derived.
    Default(&'static str),
    /// Written at this line of this file.
    File { file: String, line: usize },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default("") => f.write_str("default"),
            Source::Default(how) => write!(f, "default ({how})"),
            Source::File { file, line } => write!(f, "{file}:{line}"),
        }
    }
}

impl Serialize for Source {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A configured value and where it came from. Two settings are equal when
/// their values are: provenance explains a value, it is not part of it.
#[derive(Debug, Clone, Serialize)]
pub struct Setting<T> {
    pub value: T,
    pub source: Source,
}

impl<T: PartialEq> PartialEq for Setting<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Eq> Eq for Setting<T> {}

impl<T> Setting<T> {
    pub fn default(value: T, how: &'static str) -> Self {
        Setting {
            value,
            source: Source::Default(how),
        }
    }

    pub fn from_file(value: T, file: &str, line: usize) -> Self {
        Setting {
            value,
            source: Source::File {
                file: file.to_string(),
                line,
            },
        }
    }

    pub fn is_default(&self) -> bool {
        matches!(self.source, Source::Default(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_heartbeat_forms() {
        assert_eq!(parse_time("2"), Ok(Time::from_secs(2)));
        assert_eq!(parse_time("2s"), Ok(Time::from_secs(2)));
        assert_eq!(parse_time("1.5"), Ok(Time::from_millis(1500)));
        assert_eq!(parse_time(".5"), Ok(Time::from_millis(500)));
        assert_eq!(parse_time("1.7"), Ok(Time::from_millis(1700)));
        assert_eq!(parse_time("1700ms"), Ok(Time::from_millis(1700)));
        assert_eq!(parse_time("500us"), Ok(Time::from_micros(500)));
        assert_eq!(parse_time("2.5ms"), Ok(Time::from_micros(2500)));
        assert_eq!(parse_time("0"), Ok(Time::ZERO));
        assert_eq!(parse_time("0.000001"), Ok(Time::from_micros(1)));
    }

    #[test]
    fn bad_times_are_refused() {
        for bad in [
            "", "s", "ms", "-1", "1x", "1.5.5", "1 s", "abc", "1e3", "1.5us",
        ] {
            assert!(parse_time(bad).is_err(), "{bad:?} accepted");
        }
        assert!(parse_time("604801").is_err());
        assert!(parse_time("99999999999999999999999").is_err());
    }

    #[test]
    fn times_print_back_as_they_parse() {
        for text in ["2", "1500ms", "500us", "2500us", "604800"] {
            let t = parse_time(text).unwrap();
            assert_eq!(t.to_hacf(), text);
            assert_eq!(parse_time(&t.to_hacf()), Ok(t));
        }
        assert_eq!(Time::from_millis(1500).to_string(), "1.5s");
        assert_eq!(Time::from_micros(2500).to_string(), "2.5ms");
        assert_eq!(Time::from_micros(250).to_string(), "250us");
        assert_eq!(Time::from_secs(30).to_string(), "30s");
    }

    #[test]
    fn booleans_as_heartbeat() {
        for t in ["true", "ON", "yes", "y", "1"] {
            assert_eq!(parse_bool(t), Ok(true));
        }
        for f in ["false", "Off", "no", "n", "0"] {
            assert_eq!(parse_bool(f), Ok(false));
        }
        assert!(parse_bool("maybe").is_err());
    }

    #[test]
    fn bounded_integers() {
        assert_eq!(parse_in::<u8>("7", 0, 15, "a key index"), Ok(7));
        assert!(parse_in::<u8>("16", 0, 15, "a key index").is_err());
        assert!(parse_in::<u8>("-1", 0, 15, "a key index").is_err());
        assert!(parse_in::<u16>("70000", 1, 65535, "a port").is_err());
        assert!(parse_in::<u16>("", 1, 65535, "a port").is_err());
    }
}
