//! `%(name)s` expansion of configuration values: supervisor's `options.expand`, which is Python's
//! `str % dict`, ported from CPython 3.11's `PyUnicode_Format` with its error texts.
//!
//! The port keeps CPython's scanner state (`fmtpos`/`fmtcnt`) instead of a tidier grammar because
//! the observable behaviour hangs on it: which error wins when several specs are broken, that
//! `%*d` and `%s` pull "the next argument" (the whole dict, once), and the index reported in
//! `unsupported format character` messages.
//!
//! Two places cannot match Python byte for byte: `%c` of an int in the surrogate range gives
//! U+FFFD (a Rust string cannot hold the lone surrogate Python produces), and whether a huge width
//! or precision raises `MemoryError` depends on the allocator in both implementations.

use std::collections::HashMap;

use crate::python::repr;

/// One value of the expansion dict. Supervisor only ever puts str and int values there.
#[derive(Debug, Clone, PartialEq)]
pub enum ExpansionValue {
    Str(String),
    Int(i64),
}

impl From<&str> for ExpansionValue {
    fn from(s: &str) -> Self {
        ExpansionValue::Str(s.to_owned())
    }
}

impl From<String> for ExpansionValue {
    fn from(s: String) -> Self {
        ExpansionValue::Str(s)
    }
}

impl From<i64> for ExpansionValue {
    fn from(n: i64) -> Self {
        ExpansionValue::Int(n)
    }
}

/// Python dict semantics: insertion order kept (it shows in the `%s`-of-the-whole-dict quirk),
/// inserting an existing key replaces its value in place.
#[derive(Debug, Clone, Default)]
pub struct Expansions {
    entries: Vec<(String, ExpansionValue)>,
    index: HashMap<String, usize>,
}

impl Expansions {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, key: impl Into<String>, value: ExpansionValue) {
        let key = key.into();
        match self.index.get(&key) {
            Some(&i) => self.entries[i].1 = value,
            None => {
                self.index.insert(key.clone(), self.entries.len());
                self.entries.push((key, value));
            }
        }
    }

    pub fn insert_str(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.insert(key, ExpansionValue::Str(value.into()));
    }

    pub fn insert_int(&mut self, key: impl Into<String>, value: i64) {
        self.insert(key, ExpansionValue::Int(value));
    }

    pub fn get(&self, key: &str) -> Option<&ExpansionValue> {
        self.index.get(key).map(|&i| &self.entries[i].1)
    }

    /// `dict.update`: existing keys keep their position, new ones are appended in `other`'s order.
    pub fn extend(&mut self, other: &Expansions) {
        for (k, v) in &other.entries {
            self.insert(k.clone(), v.clone());
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &ExpansionValue)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// `repr(dict)` (also its `str()`), which is what a bare `%s`/`%r` prints.
    fn dict_repr(&self) -> String {
        let items: Vec<String> =
            self.entries.iter().map(|(k, v)| format!("{}: {}", repr(k), value_repr(v))).collect();
        format!("{{{}}}", items.join(", "))
    }
}

impl<K: Into<String>> FromIterator<(K, ExpansionValue)> for Expansions {
    fn from_iter<I: IntoIterator<Item = (K, ExpansionValue)>>(iter: I) -> Self {
        let mut out = Expansions::new();
        for (k, v) in iter {
            out.insert(k, v);
        }
        out
    }
}

fn value_repr(v: &ExpansionValue) -> String {
    match v {
        ExpansionValue::Str(s) => repr(s),
        ExpansionValue::Int(n) => n.to_string(),
    }
}

/// The exception `str % dict` raises, with `Display` equal to Python's `str(exc)`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FormatError {
    /// `KeyError`; its `str()` is the key's repr.
    #[error("{}", repr(.0))]
    MissingKey(String),
    #[error("incomplete format")]
    IncompleteFormat,
    #[error("incomplete format key")]
    IncompleteFormatKey,
    #[error("unsupported format character '{}' (0x{:x}) at index {}", shown_char(*.ch), u32::from(*.ch), .index)]
    UnsupportedCharacter { ch: char, index: usize },
    #[error("%{conversion} format: a real number is required, not {type_name}")]
    RealNumberRequired { conversion: char, type_name: &'static str },
    #[error("%{conversion} format: an integer is required, not {type_name}")]
    IntegerRequired { conversion: char, type_name: &'static str },
    #[error("must be real number, not {type_name}")]
    MustBeRealNumber { type_name: &'static str },
    #[error("%c requires int or char")]
    CharRequired,
    #[error("%c arg not in range(0x110000)")]
    CharOutOfRange,
    #[error("not enough arguments for format string")]
    NotEnoughArguments,
    #[error("* wants int")]
    StarWantsInt,
    #[error("Python int too large to convert to C int")]
    IntTooLargeForCInt,
    #[error("width too big")]
    WidthTooBig,
    #[error("precision too big")]
    PrecisionTooBig,
    #[error("precision too large")]
    PrecisionTooLarge,
    /// `MemoryError()`, whose `str()` is empty: a width or precision too large to allocate.
    #[error("")]
    OutOfMemory,
}

/// CPython shows the offending character itself only for code points 31..=126 (so 0x1f appears
/// raw), else `?`.
fn shown_char(c: char) -> char {
    if (31..=126).contains(&u32::from(c)) { c } else { '?' }
}

/// supervisor's `ValueError`s from `options.expand`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExpandError {
    #[error(
        "Format string {} for {} contains names ({}) which cannot be expanded. Available names: {}",
        repr(.format), repr(.name), repr(.key), .available.join(", ")
    )]
    UnknownName {
        format: String,
        name: String,
        key: String,
        /// Every key of the dict, in Python's `sorted()` order.
        available: Vec<String>,
    },
    #[error("Format string {} for {} is badly formatted: {}", repr(.format), repr(.name), .reason)]
    BadFormat { format: String, name: String, reason: FormatError },
}

/// supervisor's `expand(s, expansions, name)`: `s % expansions`, with a missing key reported
/// with the available names and every other failure as "badly formatted".
pub fn expand(s: &str, expansions: &Expansions, name: &str) -> Result<String, ExpandError> {
    format_mapping(s, expansions).map_err(|err| match err {
        FormatError::MissingKey(key) => {
            // Rust's `str` ordering is by UTF-8 bytes, which is code-point order like Python's.
            let mut available: Vec<String> = expansions.keys().map(str::to_owned).collect();
            available.sort();
            ExpandError::UnknownName { format: s.to_owned(), name: name.to_owned(), key, available }
        }
        reason => ExpandError::BadFormat { format: s.to_owned(), name: name.to_owned(), reason },
    })
}

/// Python's `s % mapping` for a dict of str/int values.
pub fn format_mapping(s: &str, expansions: &Expansions) -> Result<String, FormatError> {
    let mut f = Formatter {
        fmt: s.chars().collect(),
        pos: 0,
        cnt: 0,
        dict: expansions,
        arg: Arg::Dict,
        consumed: false,
        out: String::with_capacity(s.len()),
    };
    f.run()?;
    Ok(f.out)
}

const F_LJUST: u8 = 1;
const F_SIGN: u8 = 2;
const F_BLANK: u8 = 4;
const F_ALT: u8 = 8;
const F_ZERO: u8 = 16;

/// What the next `%` spec would consume: the whole dict until a `%(key)` replaces it with that
/// key's value. Either can be consumed once.
#[derive(Clone, Copy)]
enum Arg<'a> {
    Dict,
    Value(&'a ExpansionValue),
}

struct Spec {
    flags: u8,
    /// -1 when absent, as in CPython.
    width: i64,
    /// -1 when absent, as in CPython.
    prec: i64,
    ch: char,
}

struct Formatter<'a> {
    fmt: Vec<char>,
    pos: usize,
    /// CPython's `fmtcnt`: characters left to read from `pos`, driven below zero at the end of
    /// the string, which is how the "incomplete" errors are detected.
    cnt: isize,
    dict: &'a Expansions,
    arg: Arg<'a>,
    consumed: bool,
    out: String,
}

impl<'a> Formatter<'a> {
    /// The character at `pos`; past the end CPython reads the string's NUL terminator.
    fn peek(&self) -> char {
        self.fmt.get(self.pos).copied().unwrap_or('\0')
    }

    /// CPython's `while (--fmtcnt >= 0) { ch = READ; fmtpos++; ... }` step.
    fn advance(&mut self) -> Option<char> {
        self.cnt -= 1;
        if self.cnt >= 0 {
            let c = self.peek();
            self.pos += 1;
            Some(c)
        } else {
            None
        }
    }

    fn run(&mut self) -> Result<(), FormatError> {
        self.cnt = isize::try_from(self.fmt.len()).map_err(|_| FormatError::OutOfMemory)?;
        loop {
            self.cnt -= 1;
            if self.cnt < 0 {
                return Ok(());
            }
            if self.peek() != '%' {
                let start = self.pos;
                self.pos += 1;
                while self.cnt >= 0 && self.peek() != '%' {
                    self.pos += 1;
                    self.cnt -= 1;
                }
                if self.cnt < 0 {
                    self.pos -= 1;
                }
                self.out.extend(&self.fmt[start..self.pos]);
            } else {
                self.pos += 1;
                self.format_arg()?;
            }
        }
    }

    fn next_arg(&mut self) -> Result<Arg<'a>, FormatError> {
        if self.consumed {
            return Err(FormatError::NotEnoughArguments);
        }
        self.consumed = true;
        Ok(self.arg)
    }

    fn format_arg(&mut self) -> Result<(), FormatError> {
        if self.peek() == '%' {
            self.pos += 1;
            self.cnt -= 1;
            self.out.push('%');
            return Ok(());
        }
        let spec = self.parse_spec()?;
        let arg = self.next_arg()?;
        self.format_value(spec, arg)
    }

    fn parse_spec(&mut self) -> Result<Spec, FormatError> {
        let mut spec = Spec { flags: 0, width: -1, prec: -1, ch: self.peek() };

        if spec.ch == '(' {
            self.pos += 1;
            self.cnt -= 1;
            let keystart = self.pos;
            let mut depth = 1;
            while depth > 0 {
                let Some(c) = self.advance() else { break };
                match c {
                    ')' => depth -= 1,
                    '(' => depth += 1,
                    _ => {}
                }
            }
            if self.cnt < 0 || depth > 0 {
                return Err(FormatError::IncompleteFormatKey);
            }
            let key: String = self.fmt[keystart..self.pos - 1].iter().collect();
            match self.dict.get(&key) {
                Some(value) => {
                    self.arg = Arg::Value(value);
                    self.consumed = false;
                }
                None => return Err(FormatError::MissingKey(key)),
            }
            spec.ch = ')';
        }

        while let Some(c) = self.advance() {
            spec.ch = c;
            match c {
                '-' => spec.flags |= F_LJUST,
                '+' => spec.flags |= F_SIGN,
                ' ' => spec.flags |= F_BLANK,
                '#' => spec.flags |= F_ALT,
                '0' => spec.flags |= F_ZERO,
                _ => break,
            }
        }

        if spec.ch == '*' {
            // A `*` width can only ever be an int value looked up by key; its magnitude does not
            // matter because the conversion that follows has nothing left to consume.
            match self.next_arg()? {
                Arg::Value(ExpansionValue::Int(n)) => {
                    if *n < 0 {
                        spec.flags |= F_LJUST;
                    }
                    spec.width = n.saturating_abs();
                }
                _ => return Err(FormatError::StarWantsInt),
            }
            if let Some(c) = self.advance() {
                spec.ch = c;
            }
        } else if let Some(d) = spec.ch.to_digit(10) {
            spec.width = i64::from(d);
            while let Some(c) = self.advance() {
                spec.ch = c;
                let Some(d) = c.to_digit(10) else { break };
                let d = i64::from(d);
                if spec.width > (i64::MAX - d) / 10 {
                    return Err(FormatError::WidthTooBig);
                }
                spec.width = spec.width * 10 + d;
            }
        }

        if spec.ch == '.' {
            spec.prec = 0;
            if let Some(c) = self.advance() {
                spec.ch = c;
            }
            if spec.ch == '*' {
                match self.next_arg()? {
                    Arg::Value(ExpansionValue::Int(n)) => {
                        let n = i32::try_from(*n).map_err(|_| FormatError::IntTooLargeForCInt)?;
                        spec.prec = i64::from(n.max(0));
                    }
                    _ => return Err(FormatError::StarWantsInt),
                }
                if let Some(c) = self.advance() {
                    spec.ch = c;
                }
            } else if let Some(d) = spec.ch.to_digit(10) {
                spec.prec = i64::from(d);
                while let Some(c) = self.advance() {
                    spec.ch = c;
                    let Some(d) = c.to_digit(10) else { break };
                    let d = i64::from(d);
                    if spec.prec > (i64::from(i32::MAX) - d) / 10 {
                        return Err(FormatError::PrecisionTooBig);
                    }
                    spec.prec = spec.prec * 10 + d;
                }
            }
        }

        if self.cnt >= 0
            && matches!(spec.ch, 'h' | 'l' | 'L')
            && let Some(c) = self.advance()
        {
            spec.ch = c;
        }
        if self.cnt < 0 {
            return Err(FormatError::IncompleteFormat);
        }
        Ok(spec)
    }

    fn format_value(&mut self, mut spec: Spec, arg: Arg<'a>) -> Result<(), FormatError> {
        let (text, numeric) = match spec.ch {
            's' | 'r' | 'a' => {
                let text = match arg {
                    Arg::Value(ExpansionValue::Str(s)) => match spec.ch {
                        's' => s.clone(),
                        'r' => repr(s),
                        _ => ascii(&repr(s)),
                    },
                    Arg::Value(ExpansionValue::Int(n)) => n.to_string(),
                    Arg::Dict if spec.ch == 'a' => ascii(&self.dict.dict_repr()),
                    Arg::Dict => self.dict.dict_repr(),
                };
                (text, false)
            }
            'd' | 'i' | 'u' | 'o' | 'x' | 'X' => {
                let n = match arg {
                    Arg::Value(ExpansionValue::Int(n)) => *n,
                    other => {
                        let type_name = type_name(other);
                        return Err(if matches!(spec.ch, 'o' | 'x' | 'X') {
                            FormatError::IntegerRequired { conversion: spec.ch, type_name }
                        } else {
                            FormatError::RealNumberRequired { conversion: spec.ch, type_name }
                        });
                    }
                };
                (format_long(n, spec.flags & F_ALT != 0, spec.prec, spec.ch)?, true)
            }
            'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
                let n = match arg {
                    Arg::Value(ExpansionValue::Int(n)) => *n,
                    other => {
                        return Err(FormatError::MustBeRealNumber { type_name: type_name(other) });
                    }
                };
                (format_float(n, spec.ch, spec.prec, spec.flags & F_ALT != 0)?, true)
            }
            'c' => {
                let c = match arg {
                    Arg::Value(ExpansionValue::Str(s)) => {
                        let mut chars = s.chars();
                        match (chars.next(), chars.next()) {
                            (Some(c), None) => c,
                            _ => return Err(FormatError::CharRequired),
                        }
                    }
                    Arg::Value(ExpansionValue::Int(n)) => {
                        if !(0..=0x10FFFF).contains(n) {
                            return Err(FormatError::CharOutOfRange);
                        }
                        // Python would produce a lone surrogate here, which a Rust string cannot
                        // hold; the replacement character is the closest faithful text.
                        u32::try_from(*n)
                            .ok()
                            .and_then(char::from_u32)
                            .unwrap_or(char::REPLACEMENT_CHARACTER)
                    }
                    Arg::Dict => return Err(FormatError::CharRequired),
                };
                (c.to_string(), false)
            }
            other => {
                return Err(FormatError::UnsupportedCharacter { ch: other, index: self.pos - 1 });
            }
        };
        self.output(&mut spec, &text, numeric)
    }

    /// CPython's `unicode_format_arg_output`: sign, `0x` prefix and padding around a converted
    /// value, including its quirks (zero fill only for numbers, right padding always spaces).
    fn output(&mut self, spec: &mut Spec, text: &str, numeric: bool) -> Result<(), FormatError> {
        let chars: Vec<char> = text.chars().collect();
        let mut len = chars.len() as i64;
        let fill = if numeric && spec.flags & F_ZERO != 0 { '0' } else { ' ' };
        if (spec.width == -1 || spec.width <= len)
            && (spec.prec == -1 || spec.prec >= len)
            && spec.flags & (F_SIGN | F_BLANK) == 0
        {
            self.out.push_str(text);
            return Ok(());
        }
        if matches!(spec.ch, 's' | 'r' | 'a') && spec.prec >= 0 && len > spec.prec {
            len = spec.prec;
        }
        let mut sign = numeric;
        let mut pindex = 0usize;
        let mut signchar = '\0';
        if sign {
            match chars.first() {
                Some(&c @ ('-' | '+')) => {
                    signchar = c;
                    len -= 1;
                    pindex = 1;
                }
                _ if spec.flags & F_SIGN != 0 => signchar = '+',
                _ if spec.flags & F_BLANK != 0 => signchar = ' ',
                _ => sign = false,
            }
        }
        let mut width = spec.width.max(len);
        let total = usize::try_from(width + 1).map_err(|_| FormatError::OutOfMemory)?;
        self.out.try_reserve(total).map_err(|_| FormatError::OutOfMemory)?;

        let alt_prefix = spec.flags & F_ALT != 0 && matches!(spec.ch, 'x' | 'X' | 'o');
        if sign {
            if fill != ' ' {
                self.out.push(signchar);
            }
            if width > len {
                width -= 1;
            }
        }
        if alt_prefix {
            if fill != ' ' {
                self.out.push('0');
                self.out.push(spec.ch);
                pindex += 2;
            }
            width = (width - 2).max(0);
            len -= 2;
        }
        if width > len && spec.flags & F_LJUST == 0 {
            push_repeated(&mut self.out, fill, width - len);
            width = len;
        }
        if fill == ' ' {
            if sign {
                self.out.push(signchar);
            }
            if alt_prefix {
                self.out.push('0');
                self.out.push(spec.ch);
                pindex += 2;
            }
        }
        let len_u = usize::try_from(len).unwrap_or(0);
        self.out.extend(chars.iter().skip(pindex).take(len_u));
        if width > len {
            push_repeated(&mut self.out, ' ', width - len);
        }
        Ok(())
    }
}

fn push_repeated(out: &mut String, c: char, n: i64) {
    for _ in 0..n {
        out.push(c);
    }
}

fn type_name(arg: Arg<'_>) -> &'static str {
    match arg {
        Arg::Dict => "dict",
        Arg::Value(ExpansionValue::Str(_)) => "str",
        Arg::Value(ExpansionValue::Int(_)) => "int",
    }
}

/// Python's `ascii()` given the object's `repr()`: every non-ASCII character backslash-escaped.
fn ascii(repr: &str) -> String {
    let mut out = String::with_capacity(repr.len());
    for c in repr.chars() {
        let cp = u32::from(c);
        if cp < 0x80 {
            out.push(c);
        } else if cp <= 0xff {
            out.push_str(&format!("\\x{cp:02x}"));
        } else if cp <= 0xffff {
            out.push_str(&format!("\\u{cp:04x}"));
        } else {
            out.push_str(&format!("\\U{cp:08x}"));
        }
    }
    out
}

/// CPython's `_PyUnicode_FormatLong`: digits in the base with a `0x`/`0o` prefix only under `#`,
/// zero-extended to `prec` digits after the sign and prefix.
fn format_long(n: i64, alt: bool, prec: i64, conv: char) -> Result<String, FormatError> {
    if prec > i64::from(i32::MAX - 3) {
        return Err(FormatError::PrecisionTooLarge);
    }
    let magnitude = n.unsigned_abs();
    let (prefix, digits) = match conv {
        'o' => ("0o", format!("{magnitude:o}")),
        'x' => ("0x", format!("{magnitude:x}")),
        'X' => ("0X", format!("{magnitude:X}")),
        _ => ("", magnitude.to_string()),
    };
    let zeros = usize::try_from(prec).unwrap_or(0).saturating_sub(digits.len());
    let mut out = String::new();
    out.try_reserve(zeros + digits.len() + 3).map_err(|_| FormatError::OutOfMemory)?;
    if n < 0 {
        out.push('-');
    }
    if alt {
        out.push_str(prefix);
    }
    out.extend(std::iter::repeat_n('0', zeros));
    out.push_str(&digits);
    Ok(out)
}

/// `PyOS_double_to_string(float(n), conv, prec, alt)`. The value always comes from an int, so it
/// is an exact integer and the decimal digits can be computed exactly here, rounded half-even to
/// the requested significant digits as David Gay's dtoa does.
fn format_float(n: i64, conv: char, prec: i64, alt: bool) -> Result<String, FormatError> {
    let prec = if prec < 0 { 6 } else { prec };
    // int -> float rounds to nearest-even like Python's int.__float__; the result is integral
    // and within u64, so the second cast is exact.
    let x = n as f64;
    let magnitude = x.abs() as u64;
    let (mut digits, mut decpt): (Vec<u8>, i64) = if magnitude == 0 {
        (vec![b'0'], 1)
    } else {
        let all = magnitude.to_string().into_bytes();
        let decpt = all.len() as i64;
        let kept = all.len() - all.iter().rev().take_while(|&&d| d == b'0').count();
        (all[..kept].to_vec(), decpt)
    };
    let lower = conv.to_ascii_lowercase();
    let precision = match lower {
        'e' => prec + 1,
        'g' => prec.max(1),
        _ => prec,
    };
    if lower != 'f' {
        round_half_even(&mut digits, &mut decpt, usize::try_from(precision).unwrap_or(usize::MAX));
    }

    let digits_len = digits.len() as i64;
    let mut use_exp = false;
    let mut vdigits_end = digits_len;
    match lower {
        'e' => {
            use_exp = true;
            vdigits_end = precision;
        }
        'f' => vdigits_end = decpt + precision,
        _ => {
            if decpt <= -4 || decpt > precision {
                use_exp = true;
            }
            if alt {
                vdigits_end = precision;
            }
        }
    }
    let mut exp = 0;
    if use_exp {
        exp = decpt - 1;
        decpt = 1;
    }
    let vdigits_end = vdigits_end.max(decpt);

    let size = usize::try_from(vdigits_end + 8).map_err(|_| FormatError::OutOfMemory)?;
    let mut out = String::new();
    out.try_reserve(size).map_err(|_| FormatError::OutOfMemory)?;
    if x < 0.0 {
        out.push('-');
    }
    let vdigit = |i: i64| -> char {
        usize::try_from(i).ok().and_then(|i| digits.get(i)).map_or('0', |&d| char::from(d))
    };
    out.extend((0..decpt).map(vdigit));
    if vdigits_end > decpt || alt {
        out.push('.');
    }
    out.extend((decpt..vdigits_end).map(vdigit));
    if use_exp {
        out.push(if conv.is_ascii_uppercase() { 'E' } else { 'e' });
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    }
    Ok(out)
}

/// Rounds a digit string (no trailing zeros) to at most `ndigits` significant digits, ties to
/// even, and drops the trailing zeros the rounding leaves, like dtoa's mode 2.
fn round_half_even(digits: &mut Vec<u8>, decpt: &mut i64, ndigits: usize) {
    if digits.len() <= ndigits {
        return;
    }
    let first_dropped = digits[ndigits];
    let more_after = digits.len() > ndigits + 1;
    let last_kept_odd = ndigits > 0 && (digits[ndigits - 1] - b'0') % 2 == 1;
    let round_up = first_dropped > b'5' || (first_dropped == b'5' && (more_after || last_kept_odd));
    digits.truncate(ndigits);
    if round_up {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, b'1');
                *decpt += 1;
                break;
            }
            i -= 1;
            if digits[i] == b'9' {
                digits[i] = b'0';
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    while digits.len() > 1 && digits.last() == Some(&b'0') {
        digits.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Expansions {
        let mut e = Expansions::new();
        e.insert_str("ENV_HOME", "/home/u");
        e.insert_str("program_name", "web");
        e.insert_str("group_name", "web");
        e.insert_int("process_num", 3);
        e.insert_int("numprocs", 4);
        e
    }

    fn fmt(s: &str, e: &Expansions) -> Result<String, String> {
        format_mapping(s, e).map_err(|err| err.to_string())
    }

    #[test]
    fn deps_examples() {
        let e = sample();
        assert_eq!(fmt("%(ENV_HOME)s/x", &e).unwrap(), "/home/u/x");
        assert_eq!(fmt("100%%", &e).unwrap(), "100%");
        assert_eq!(fmt("%(process_num)02d", &e).unwrap(), "03");
        assert_eq!(fmt("%(program_name)-6s|", &e).unwrap(), "web   |");
        assert_eq!(fmt("%(process_num)x", &e).unwrap(), "3");
        assert_eq!(fmt("%(numprocs)d%%", &e).unwrap(), "4%");
    }

    #[test]
    fn expand_error_messages() {
        let e = sample();
        let err = expand("100%", &e, "program:web.command").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Format string '100%' for 'program:web.command' is badly formatted: incomplete format"
        );
        let err = expand("%(missing)s", &e, "command").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Format string '%(missing)s' for 'command' contains names ('missing') which cannot \
             be expanded. Available names: ENV_HOME, group_name, numprocs, process_num, \
             program_name"
        );
    }

    #[test]
    fn whole_dict_quirk() {
        let mut e = Expansions::new();
        e.insert_str("a", "x");
        e.insert_int("n", 3);
        e.insert_str("u", "é");
        assert_eq!(fmt("%s", &e).unwrap(), "{'a': 'x', 'n': 3, 'u': 'é'}");
        assert_eq!(fmt("%a", &e).unwrap(), "{'a': 'x', 'n': 3, 'u': '\\xe9'}");
        assert_eq!(fmt("%s%(a)s", &e).unwrap(), "{'a': 'x', 'n': 3, 'u': 'é'}x");
        assert_eq!(fmt("%s%s", &e).unwrap_err(), "not enough arguments for format string");
        assert_eq!(fmt("%(a)s%s", &e).unwrap_err(), "not enough arguments for format string");
        // Replacing keeps the original position, as a dict does.
        e.insert_int("a", 1);
        assert_eq!(fmt("%r", &e).unwrap(), "{'a': 1, 'n': 3, 'u': 'é'}");
    }

    #[test]
    fn errors_in_scan_order() {
        let e = sample();
        let cases = [
            ("%", "incomplete format"),
            ("%%%", "incomplete format"),
            ("%(", "incomplete format key"),
            ("%(numprocs", "incomplete format key"),
            ("%(numprocs)", "incomplete format"),
            ("%(nope)", "'nope'"),
            ("%(nope)s%q", "'nope'"),
            ("%q%(nope)s", "unsupported format character 'q' (0x71) at index 1"),
            ("%(numprocs)Lq", "unsupported format character 'q' (0x71) at index 12"),
            ("%\u{e9}", "unsupported format character '?' (0xe9) at index 1"),
            ("%5%", "unsupported format character '%' (0x25) at index 2"),
            ("%(program_name)d", "%d format: a real number is required, not str"),
            ("%(program_name)x", "%x format: an integer is required, not str"),
            ("%(program_name)e", "must be real number, not str"),
            ("%d", "%d format: a real number is required, not dict"),
            ("%(program_name)c", "%c requires int or char"),
            ("%*d", "* wants int"),
            ("%(numprocs)*d", "not enough arguments for format string"),
            ("%(numprocs)*", "incomplete format"),
            ("%(numprocs)99999999999999999999d", "width too big"),
            ("%(numprocs).99999999999d", "precision too big"),
            ("%(numprocs).2147483645d", "precision too large"),
        ];
        for (s, want) in cases {
            assert_eq!(fmt(s, &e).unwrap_err(), want, "{s:?}");
        }
        let mut big = Expansions::new();
        big.insert_int("h", 1 << 40);
        big.insert_int("neg", -1);
        assert_eq!(fmt("%(h).*d", &big).unwrap_err(), "Python int too large to convert to C int");
        assert_eq!(fmt("%(neg)c", &big).unwrap_err(), "%c arg not in range(0x110000)");
        assert_eq!(fmt("%(h)1000000000000000d", &big).unwrap_err(), "");
    }

    #[test]
    fn integer_flags() {
        let mut e = Expansions::new();
        e.insert_int("n", 3);
        e.insert_int("neg", -255);
        let cases = [
            ("%(neg)#08x", "-0x000ff"),
            ("%(neg)#.5X", "-0X000FF"),
            ("%(neg)#o", "-0o377"),
            ("%(neg)-+08d", "-255    "),
            ("%(n)-05d", "3    "),
            ("%(n) d", " 3"),
            ("%(n)+5d", "   +3"),
            ("%(n)+05d", "+0003"),
            ("%(n)05s", "    3"),
            ("%(n)#5x", "  0x3"),
            ("%(n)ld", "3"),
        ];
        for (s, want) in cases {
            assert_eq!(fmt(s, &e).unwrap(), want, "{s:?}");
        }
    }

    #[test]
    fn float_conversions_of_ints() {
        let mut e = Expansions::new();
        e.insert_int("n", 3);
        e.insert_int("t", 25);
        e.insert_int("big", 1 << 62);
        e.insert_int("k", 999_500);
        e.insert_int("z", 0);
        let cases = [
            ("%(n)e", "3.000000e+00"),
            ("%(n).0e", "3e+00"),
            ("%(n)#.0e", "3.e+00"),
            ("%(n)#.0f", "3."),
            ("%(n)g", "3"),
            ("%(n)#g", "3.00000"),
            ("%(t).0e", "2e+01"),
            ("%(big)g", "4.61169e+18"),
            ("%(big).30e", "4.611686018427387904000000000000e+18"),
            ("%(k).3g", "1e+06"),
            ("%(z)#g", "0.00000"),
            ("%(n)010.3e", "03.000e+00"),
            ("%(n)-10.3E|", "3.000E+00 |"),
            ("%(k)G", "999500"),
        ];
        for (s, want) in cases {
            assert_eq!(fmt(s, &e).unwrap(), want, "{s:?}");
        }
        assert_eq!(fmt("%(n).1000f", &e).unwrap().len(), 1002);
    }

    #[test]
    fn strings_and_chars() {
        let mut e = Expansions::new();
        e.insert_str("q", "it's");
        e.insert_str("u", "é");
        e.insert_int("cp", 0x263a);
        assert_eq!(fmt("%(q)r", &e).unwrap(), "\"it's\"");
        assert_eq!(fmt("%(u)a", &e).unwrap(), "'\\xe9'");
        assert_eq!(fmt("%(q).2s|%(q)-6.3s|", &e).unwrap(), "it|it'   |");
        assert_eq!(fmt("%(u)3c", &e).unwrap(), "  é");
        assert_eq!(fmt("%(cp)c", &e).unwrap(), "\u{263a}");
        assert_eq!(fmt("%(a(b)c)s", &e).unwrap_err(), "'a(b)c'");
    }

    #[test]
    fn dict_update_semantics() {
        let mut a = Expansions::new();
        a.insert_str("x", "1");
        a.insert_str("y", "2");
        let mut b = Expansions::new();
        b.insert_str("z", "3");
        b.insert_str("x", "4");
        a.extend(&b);
        assert_eq!(a.keys().collect::<Vec<_>>(), ["x", "y", "z"]);
        assert_eq!(a.get("x"), Some(&ExpansionValue::Str("4".into())));
        assert_eq!(a.len(), 3);
    }
}
