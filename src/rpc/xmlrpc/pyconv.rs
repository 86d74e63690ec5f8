//! Python's text-to-value conversions as XML-RPC unmarshalling applies them: `int()`, `float()`,
//! `base64.decodebytes`, `time.strptime(text, "%Y%m%dT%H:%M:%S")`, and `repr()` of a float.
//!
//! Supervisor's request parser feeds raw element text straight into these builtins, so what they
//! accept (surrounding whitespace, `_` digit separators, non-ASCII decimal digits, junk inside
//! base64) is what the daemon accepts.

use crate::python::is_space;

/// The result of Python's `int()`: supervisor happily keeps ints wider than 64 bits, which our
/// `Value` cannot hold, so those are carried as canonical decimal text until someone needs them.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum PyInt {
    Small(i64),
    Big(String),
}

/// CPython refuses to convert decimal strings longer than this (`sys.int_info.default_max_str_digits`).
const MAX_INT_DIGITS: usize = 4300;

/// `_PyUnicode_TransformDecimalAndSpaceToASCII`: the first step of both `int()` and `float()`.
/// Python turns any other non-ASCII character into `?`, which no number grammar accepts, so
/// giving up early is equivalent.
fn ascii_digits_and_spaces(text: &str) -> Option<String> {
    text.chars()
        .map(|c| {
            if is_space(c) {
                Some(' ')
            } else if c.is_ascii() {
                Some(c)
            } else {
                crate::python::decimal_value(c).map(|d| char::from(b'0' + d))
            }
        })
        .collect()
}

/// `Py_ISSPACE`, the ASCII whitespace CPython's number parsers skip.
fn is_ascii_py_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// Python's `int(text)` (base 10); `None` where Python raises `ValueError`.
pub(super) fn int(text: &str) -> Option<PyInt> {
    // The common case, plain ASCII digits that fit, needs none of Python's extra leniency.
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    if (1..=18).contains(&unsigned.len()) && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok().map(PyInt::Small);
    }
    let ascii = ascii_digits_and_spaces(text)?;
    let s = ascii.trim_matches(is_ascii_py_space);
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let bytes = body.as_bytes();
    if bytes.is_empty() || !bytes[0].is_ascii_digit() {
        return None;
    }
    let mut digits = String::with_capacity(bytes.len());
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'_' {
            // A separator sits between two digits, never doubled or trailing.
            if !bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
                return None;
            }
        } else if b.is_ascii_digit() {
            digits.push(char::from(b));
        } else {
            return None;
        }
    }
    if digits.len() > MAX_INT_DIGITS {
        return None;
    }
    let significant = digits.trim_start_matches('0');
    if significant.is_empty() {
        return Some(PyInt::Small(0));
    }
    let signed = if negative { format!("-{significant}") } else { significant.to_owned() };
    Some(match signed.parse::<i64>() {
        Ok(v) => PyInt::Small(v),
        Err(_) => PyInt::Big(signed),
    })
}

/// Python's `float(text)`; `None` where Python raises `ValueError`.
pub(super) fn float(text: &str) -> Option<f64> {
    let ascii = ascii_digits_and_spaces(text)?;
    let ascii = if ascii.contains('_') { remove_digit_separators(&ascii)? } else { ascii };
    let s = ascii.trim_matches(is_ascii_py_space);
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let magnitude = if ["inf", "infinity"].iter().any(|w| body.eq_ignore_ascii_case(w)) {
        f64::INFINITY
    } else if body.eq_ignore_ascii_case("nan") {
        f64::NAN
    } else if is_decimal_float(body) {
        body.parse::<f64>().ok()?
    } else {
        return None;
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// `_Py_string_to_number_with_underscores`: an `_` must follow a digit and precede one.
fn remove_digit_separators(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut prev = '\0';
    for c in s.chars() {
        if c == '_' {
            if !prev.is_ascii_digit() {
                return None;
            }
        } else {
            if prev == '_' && !c.is_ascii_digit() {
                return None;
            }
            out.push(c);
        }
        prev = c;
    }
    (prev != '_').then_some(out)
}

/// The finite-number grammar of CPython's `_Py_dg_strtod` (digits with an optional fraction and
/// exponent, no sign, no hex), checked here so that Rust's parser, which is also correctly
/// rounded, only ever sees text Python would read the same way.
fn is_decimal_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let mut mantissa = digits(&mut i);
    if b.get(i) == Some(&b'.') {
        i += 1;
        mantissa += digits(&mut i);
    }
    if mantissa == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Python's `repr()` of a float: the shortest digits that read back to the same value, written
/// positionally when the decimal point falls within 16 digits and in exponent form otherwise.
pub(super) fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    // Rust's `{:e}` gives the shortest round-tripping digits too, but breaks a tie between two
    // equally near candidates upwards where Python's dtoa rounds half to even; Rust's
    // fixed-precision formatting rounds half to even, so prefer it whenever it still round-trips.
    let shortest = format!("{:e}", f.abs());
    let len =
        shortest.split_once('e').map_or(0, |(m, _)| m.chars().filter(char::is_ascii_digit).count());
    let nearest = format!("{:.*e}", len.saturating_sub(1), f.abs());
    let sci = if nearest.parse::<f64>() == Ok(f.abs()) { nearest } else { shortest };
    let Some((mantissa, exponent)) = sci.split_once('e') else {
        return sci;
    };
    let Ok(exponent) = exponent.parse::<i32>() else {
        return sci;
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if f < 0.0 { "-" } else { "" };
    let decpt = exponent + 1;
    let n = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    if !(-3..=16).contains(&decpt) {
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() { String::new() } else { format!(".{rest}") };
        let esign = if exponent < 0 { '-' } else { '+' };
        format!("{sign}{first}{dot}e{esign}{:02}", exponent.abs())
    } else if decpt <= 0 {
        let zeros = "0".repeat(usize::try_from(-decpt).unwrap_or(0));
        format!("{sign}0.{zeros}{digits}")
    } else if decpt >= n {
        let zeros = "0".repeat(usize::try_from(decpt - n).unwrap_or(0));
        format!("{sign}{digits}{zeros}.0")
    } else {
        let (int_part, frac) = digits.split_at(usize::try_from(decpt).unwrap_or(0));
        format!("{sign}{int_part}.{frac}")
    }
}

/// A naive `datetime.datetime` with whole seconds, as supervisor's `make_datetime` builds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct DateTime {
    pub(super) year: u16,
    pub(super) month: u8,
    pub(super) day: u8,
    pub(super) hour: u8,
    pub(super) minute: u8,
    pub(super) second: u8,
}

impl DateTime {
    /// The `%Y%m%dT%H:%M:%S` text `xmlrpc.client` writes for a datetime (4-digit year).
    pub(super) fn iso8601(&self) -> String {
        format!(
            "{:04}{:02}{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// `str(datetime)`, which is what a datetime dict key turns into when we name the member.
    pub(super) fn python_str(&self) -> String {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// One element of the regular expression `_strptime` compiles for `%Y%m%dT%H:%M:%S`.
#[derive(Clone, Copy)]
enum Atom {
    /// `\d`: any Unicode decimal digit.
    Digit,
    /// An ASCII character class such as `[0-5]`.
    Range(u8, u8),
    /// A literal matched case-insensitively (`_strptime` compiles with `re.IGNORECASE`).
    Lit(char),
}

use Atom::{Digit, Lit, Range};

/// The pattern as `_strptime` builds it, one entry per format directive or literal, each with its
/// alternatives in the order the regex engine tries them.
const PATTERN: &[&[&[Atom]]] = &[
    &[&[Digit, Digit, Digit, Digit]],
    &[&[Lit('1'), Range(b'0', b'2')], &[Lit('0'), Range(b'1', b'9')], &[Range(b'1', b'9')]],
    &[
        &[Range(b'3', b'3'), Range(b'0', b'1')],
        &[Range(b'1', b'2'), Digit],
        &[Lit('0'), Range(b'1', b'9')],
        &[Range(b'1', b'9')],
        &[Lit(' '), Range(b'1', b'9')],
    ],
    &[&[Lit('T')]],
    &[&[Lit('2'), Range(b'0', b'3')], &[Range(b'0', b'1'), Digit], &[Digit]],
    &[&[Lit(':')]],
    &[&[Range(b'0', b'5'), Digit], &[Digit]],
    &[&[Lit(':')]],
    &[&[Lit('6'), Range(b'0', b'1')], &[Range(b'0', b'5'), Digit], &[Digit]],
];

fn atom_matches(atom: Atom, c: char) -> bool {
    match atom {
        Digit => crate::python::decimal_value(c).is_some(),
        Range(lo, hi) => c.is_ascii() && (lo..=hi).contains(&(c as u8)),
        Lit(l) => c.eq_ignore_ascii_case(&l),
    }
}

/// Backtracking match of `PATTERN[group..]` against `chars[pos..]`, taking the first success in
/// the regex engine's order; on success `spans` holds each group's extent.
fn match_groups(chars: &[char], group: usize, pos: usize, spans: &mut Vec<(usize, usize)>) -> bool {
    let Some(alternatives) = PATTERN.get(group) else {
        return true;
    };
    for alternative in alternatives.iter() {
        let end = pos + alternative.len();
        let fits = chars.get(pos..end).is_some_and(|window| {
            window.iter().zip(alternative.iter()).all(|(&c, &atom)| atom_matches(atom, c))
        });
        if fits {
            spans.push((pos, end));
            if match_groups(chars, group + 1, end, spans) {
                return true;
            }
            spans.pop();
        }
    }
    false
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Supervisor's `make_datetime(text)`: `datetime(*time.strptime(text, "%Y%m%dT%H:%M:%S")[:6])`.
/// `None` where Python raises.
pub(super) fn parse_iso8601(text: &str) -> Option<DateTime> {
    let chars: Vec<char> = text.chars().collect();
    let mut spans = Vec::with_capacity(PATTERN.len());
    if !match_groups(&chars, 0, 0, &mut spans) {
        return None;
    }
    // `re.match` is anchored only at the start; anything after the first match is
    // "unconverted data remains".
    if spans.last().map(|s| s.1) != Some(chars.len()) {
        return None;
    }
    let number = |i: usize| -> u16 {
        let (from, to) = spans[i];
        chars[from..to]
            .iter()
            .filter_map(|&c| crate::python::decimal_value(c))
            .fold(0u16, |acc, d| acc * 10 + u16::from(d))
    };
    let narrow = |i: usize| u8::try_from(number(i)).ok();
    let dt = DateTime {
        year: number(0),
        month: narrow(1)?,
        day: narrow(2)?,
        hour: narrow(4)?,
        minute: narrow(6)?,
        second: narrow(8)?,
    };
    // `_strptime` computes the day of the year through `datetime.date` (year 0 or 31 February
    // raise), and `datetime()` refuses the leap seconds strptime itself allows.
    let valid = dt.year >= 1 && dt.day <= days_in_month(dt.year, dt.month) && dt.second <= 59;
    valid.then_some(dt)
}
