//! The value converters of supervisor's `datatypes.py`: config text in, typed value or the exact
//! `ValueError` text supervisor 4.3.0 (on Python 3.11, Linux) would report.
//!
//! Several converters lean on Python built-ins (`int()`, `str.lower()`, `shlex`,
//! `urllib.parse.urlparse`, `os.path`, `pwd`/`grp`), so this module carries small ports of exactly
//! the parts of those that can change a result or an error message.
//!
//! Deliberate differences from Python, all where Python would hand back something our typed API
//! cannot hold:
//! - integers beyond `i64` (and byte sizes whose product overflows it) are an error of ours
//!   ([`DatatypeError::OutOfRange`]) where Python would accept them;
//! - [`logging_level`] refuses the class attributes (`__module__`, `__dict__`, ...) that Python's
//!   `getattr`-based lookup would return as a "level";
//! - [`name_to_gid`] reports `Invalid group id N` where Python's `grp.getgrgid` raises an
//!   `OverflowError` (ids below -1 or beyond `u32`).

use crate::python::{repr, strip};
use nix::unistd::{Gid, Group, Uid, User};
use std::path::Path;

/// A conversion failure. `Display` is the exact text of the `ValueError` Python raises, except
/// for the variants documented as ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatatypeError {
    /// `int()` refused the text (the field is the original text).
    #[error("invalid literal for int() with base 10: {}", int_literal_repr(.0))]
    InvalidInt(String),
    /// `int()` refused a literal with more than 4300 decimal digits (the field is the count).
    #[error(
        "Exceeds the limit (4300 digits) for integer string conversion: value has {0} digits; use sys.set_int_max_str_digits() to increase the limit"
    )]
    IntDigitLimit(usize),
    /// Ours: Python would accept the value, but it does not fit in 64 bits.
    #[error(
        "value {} is out of range (supervisor-rs integers are 64-bit: -9223372036854775808 to 9223372036854775807)",
        repr(.0)
    )]
    OutOfRange(String),
    #[error("not a valid boolean value: {}", repr(.0))]
    Boolean(String),
    #[error("not a valid list of exit codes: {}", repr(.0))]
    ExitCodes(String),
    /// `shlex` met the end of the text inside a quoted token.
    #[error("No closing quotation")]
    NoClosingQuotation,
    #[error("Unexpected end of key/value pairs in value '{0}'")]
    KeyValuePairs(String),
    #[error("{0} can not be converted to an octal type")]
    Octal(String),
    #[error("value {} is not a valid signal name", repr(.0))]
    SignalName(String),
    #[error("value {} is not a valid signal number", repr(.0))]
    SignalNumber(String),
    #[error("bad logging level name {}", repr(.0))]
    LoggingLevel(String),
    /// The field is the lower-cased value, as Python reports it.
    #[error("invalid 'autorestart' value {}", repr(.0))]
    AutoRestart(String),
    #[error("Invalid name: {} because of character: {}", repr(.name), repr(&.character.to_string()))]
    InvalidName { name: String, character: char },
    #[error("The directory named as part of the path {0} does not exist")]
    MissingParentDirectory(String),
    #[error("{0} is not an existing directory")]
    NotADirectory(String),
    /// A NUL character reached a C library call (`pwd.getpwnam` and friends).
    #[error("embedded null byte")]
    EmbeddedNull,
    #[error("Invalid user name {0}")]
    UserName(String),
    #[error("Invalid user id {0}")]
    UserId(String),
    #[error("Invalid group name {0}")]
    GroupName(String),
    #[error("Invalid group id {0}")]
    GroupId(String),
    #[error("Invalid user:group definition {0}")]
    UserGroup(String),
    /// The fields are Python's `repr()` of the value and of the bound.
    #[error("{value} is below lower bound ({bound})")]
    BelowLowerBound { value: String, bound: String },
    #[error("{value} is above upper bound ({bound})")]
    AboveUpperBound { value: String, bound: String },
    /// Python formats the (always empty) port text with `%r`.
    #[error("no port number specified in ''")]
    NoPortNumber,
    /// The trailing space is Python's.
    #[error("not a valid port number: {} ", repr(.0))]
    NotAPortNumber(String),
    #[error("value {} is not a URL", repr(.0))]
    NotAUrl(String),
    #[error("Invalid IPv6 URL")]
    InvalidIpv6Url,
    #[error("netloc '{0}' contains invalid characters under NFKC normalization")]
    NetlocNfkc(String),
    #[error("IPvFuture address is invalid")]
    InvalidIpvFuture,
    #[error("An IPv4 address cannot be in brackets")]
    Ipv4InBrackets,
    #[error("{} does not appear to be an IPv4 or IPv6 address", repr(.0))]
    NotAnIpAddress(String),
}

/// CPython formats this message with `%.200R`, which cuts the repr after 200 characters (so a
/// long value loses its closing quote).
fn int_literal_repr(s: &str) -> String {
    repr(s).chars().take(200).collect()
}

// ---------------------------------------------------------------------------------------------
// Python text rules the converters depend on.

/// CPython's `Py_ISSPACE`: the only bytes `int()` skips once the text is ASCII.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Python's `int()` refusal, before the caller decides which message it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IntError {
    Invalid,
    DigitLimit(usize),
}

/// A Python `int` read from text: sign and digits (in the literal's base, leading zeros removed)
/// so values beyond 64 bits can still be compared and printed the way Python would.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PyInt {
    negative: bool,
    digits: Vec<u8>,
    base: u32,
}

impl PyInt {
    fn to_i64(&self) -> Option<i64> {
        let mut magnitude: i128 = 0;
        for &d in &self.digits {
            magnitude = magnitude * i128::from(self.base) + i128::from(d);
            if magnitude > 1 << 63 {
                return None;
            }
        }
        i64::try_from(if self.negative { -magnitude } else { magnitude }).ok()
    }

    /// Python's `repr()` of the value; only meaningful for base 10 literals.
    fn decimal_repr(&self) -> String {
        if self.digits.is_empty() {
            return "0".to_string();
        }
        let mut out = String::with_capacity(self.digits.len() + 1);
        if self.negative {
            out.push('-');
        }
        out.extend(self.digits.iter().map(|&d| char::from(b'0' + d)));
        out
    }
}

/// Python's `int(s, base)` for base 8 or 10: surrounding whitespace, a sign, single `_` between
/// digits, any Unicode decimal digit, and `0o` after the sign in base 8.
fn parse_int(s: &str, base: u32) -> Result<PyInt, IntError> {
    // CPython first rewrites the text to ASCII: Unicode spaces become ' ', Unicode digits their
    // ASCII digit, and the first other non-ASCII character ends the text as an unparsable '?'.
    let mut buf: Vec<u8> = Vec::with_capacity(s.len());
    for c in s.chars() {
        if let Ok(b) = u8::try_from(c)
            && b.is_ascii()
        {
            buf.push(b);
        } else if c.is_whitespace() {
            buf.push(b' ');
        } else if let Some(d) = crate::python::decimal_value(c) {
            buf.push(b'0' + d);
        } else {
            buf.push(b'?');
            break;
        }
    }
    // The rewritten text is then read as a C string: a NUL ends it, which makes the literal
    // invalid, but only after the digit-limit check has had its say.
    let nul = buf.iter().position(|&b| b == 0);
    let text = &buf[..nul.unwrap_or(buf.len())];
    let at = |i: usize| text.get(i).copied();

    let mut i = 0;
    while at(i).is_some_and(is_c_space) {
        i += 1;
    }
    let mut negative = false;
    if let Some(sign @ (b'+' | b'-')) = at(i) {
        negative = sign == b'-';
        i += 1;
    }
    if base == 8 && at(i) == Some(b'0') && matches!(at(i + 1), Some(b'o' | b'O')) {
        i += 2;
        if at(i) == Some(b'_') {
            i += 1;
        }
    }
    if at(i) == Some(b'_') {
        return Err(IntError::Invalid);
    }
    let mut digits = Vec::new();
    let mut count = 0usize;
    let mut prev_underscore = false;
    while let Some(b) = at(i) {
        if b == b'_' {
            if prev_underscore {
                return Err(IntError::Invalid);
            }
            prev_underscore = true;
        } else if let Some(d) = char::from(b).to_digit(base) {
            prev_underscore = false;
            count += 1;
            if !(digits.is_empty() && d == 0) {
                digits.push(d as u8);
            }
        } else {
            break;
        }
        i += 1;
    }
    if prev_underscore {
        return Err(IntError::Invalid);
    }
    // Power-of-two bases are exempt from the limit (sys.int_info.default_max_str_digits).
    if base == 10 && count > 4300 {
        return Err(IntError::DigitLimit(count));
    }
    if count == 0 {
        return Err(IntError::Invalid);
    }
    while at(i).is_some_and(is_c_space) {
        i += 1;
    }
    if i != text.len() || nul.is_some() {
        return Err(IntError::Invalid);
    }
    Ok(PyInt { negative: negative && !digits.is_empty(), digits, base })
}

/// `int(s)`, with Python's error texts.
fn python_int(s: &str) -> Result<PyInt, DatatypeError> {
    parse_int(s, 10).map_err(|e| match e {
        IntError::Invalid => DatatypeError::InvalidInt(s.to_string()),
        IntError::DigitLimit(n) => DatatypeError::IntDigitLimit(n),
    })
}

// ---------------------------------------------------------------------------------------------
// The converters, in the order of datatypes.py.

/// `process_or_group_name`: the stripped name, which must not contain a space, `:` or `/` (they
/// would break the event listener protocol and the web UI's URLs).
pub fn process_or_group_name(s: &str) -> Result<String, DatatypeError> {
    let stripped = strip(s);
    for character in [' ', ':', '/'] {
        if stripped.contains(character) {
            return Err(DatatypeError::InvalidName { name: s.to_string(), character });
        }
    }
    Ok(stripped.to_string())
}

/// `integer`: Python's `int()`. Values outside `i64` are refused with
/// [`DatatypeError::OutOfRange`] (Python has no limit).
pub fn integer(s: &str) -> Result<i64, DatatypeError> {
    python_int(s)?.to_i64().ok_or_else(|| DatatypeError::OutOfRange(s.to_string()))
}

const TRUTHY_STRINGS: [&str; 4] = ["yes", "true", "on", "1"];
const FALSY_STRINGS: [&str; 4] = ["no", "false", "off", "0"];

/// `boolean`: `yes/true/on/1` and `no/false/off/0`, any case, nothing else (not even spaces).
pub fn boolean(s: &str) -> Result<bool, DatatypeError> {
    let lowered = crate::python::lower(s);
    if TRUTHY_STRINGS.contains(&lowered.as_str()) {
        Ok(true)
    } else if FALSY_STRINGS.contains(&lowered.as_str()) {
        Ok(false)
    } else {
        Err(DatatypeError::Boolean(s.to_string()))
    }
}

/// `list_of_strings`: comma-split with each item stripped; empty text is an empty list (but a
/// lone space is `[""]`).
pub fn list_of_strings(s: &str) -> Vec<String> {
    if s.is_empty() {
        return Vec::new();
    }
    s.split(',').map(|x| strip(x).to_string()).collect()
}

/// `list_of_exitcodes`: comma-separated `int()`s, each 0 to 255.
pub fn list_of_exitcodes(s: &str) -> Result<Vec<i64>, DatatypeError> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    s.split(',')
        .map(|item| {
            parse_int(item, 10)
                .ok()
                .and_then(|n| n.to_i64())
                .filter(|v| (0..=255).contains(v))
                .ok_or_else(|| DatatypeError::ExitCodes(s.to_string()))
        })
        .collect()
}

/// The tokens of `shlex.shlex(s)` (non-POSIX mode) after supervisor's
/// `lexer.wordchars += '/.+-():'`.
fn shlex_tokens(s: &str) -> Result<Vec<String>, DatatypeError> {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum State {
        Whitespace,
        Word,
        Quote(char),
        Eof,
    }
    let is_word = |c: char| c.is_ascii_alphanumeric() || "_/.+-():".contains(c);
    let is_white = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    let is_quote = |c: char| c == '\'' || c == '"';

    let chars: Vec<char> = s.chars().collect();
    let mut pos = 0;
    // shlex's comment handling is `instream.readline()`: drop everything up to and including the
    // next newline.
    let skip_line = |pos: &mut usize| {
        while let Some(&c) = chars.get(*pos) {
            *pos += 1;
            if c == '\n' {
                break;
            }
        }
    };
    let mut state = State::Whitespace;
    let mut pushback: Option<String> = None;
    let mut tokens = Vec::new();
    loop {
        // A non-word character that ends a word is pushed back as a token of its own.
        if let Some(token) = pushback.take() {
            tokens.push(token);
            continue;
        }
        let mut token = String::new();
        loop {
            let next = chars.get(pos).copied();
            if next.is_some() {
                pos += 1;
            }
            match state {
                State::Eof => {
                    token.clear();
                    break;
                }
                State::Whitespace => match next {
                    None => {
                        state = State::Eof;
                        break;
                    }
                    Some(c) if is_white(c) => {
                        if !token.is_empty() {
                            break;
                        }
                    }
                    Some('#') => skip_line(&mut pos),
                    Some(c) if is_word(c) => {
                        token.push(c);
                        state = State::Word;
                    }
                    Some(c) if is_quote(c) => {
                        token.push(c);
                        state = State::Quote(c);
                    }
                    Some(c) => {
                        token.push(c);
                        break;
                    }
                },
                State::Quote(q) => match next {
                    None => return Err(DatatypeError::NoClosingQuotation),
                    Some(c) => {
                        token.push(c);
                        if c == q {
                            state = State::Whitespace;
                            break;
                        }
                    }
                },
                State::Word => match next {
                    None => {
                        state = State::Eof;
                        break;
                    }
                    Some(c) if is_white(c) => {
                        state = State::Whitespace;
                        if !token.is_empty() {
                            break;
                        }
                    }
                    // Non-POSIX shlex skips the comment but stays inside the word, so the next
                    // line's characters extend it.
                    Some('#') => skip_line(&mut pos),
                    // Quotes inside a word are plain characters in non-POSIX mode.
                    Some(c) if is_word(c) || is_quote(c) => token.push(c),
                    Some(c) => {
                        pushback = Some(c.to_string());
                        state = State::Whitespace;
                        if !token.is_empty() {
                            break;
                        }
                    }
                },
            }
        }
        // Iteration stops at the first empty token, which only the end of the text produces.
        if token.is_empty() {
            return Ok(tokens);
        }
        tokens.push(token);
    }
}

/// `dict_of_key_value_pairs`: `KEY=val,KEY2=val2` read with `shlex`; quotes allow commas and
/// spaces in values and are stripped from them (`.strip('\'"')`), but stay in keys. Supervisor
/// checks only that the second of every four tokens is `=`; the fourth is skipped whatever it is.
/// A repeated key replaces the earlier value in place, as in a Python dict.
pub fn dict_of_key_value_pairs(s: &str) -> Result<Vec<(String, String)>, DatatypeError> {
    let tokens = shlex_tokens(s)?;
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let (Some(key), Some(eq), Some(value)) =
            (tokens.get(i), tokens.get(i + 1), tokens.get(i + 2))
        else {
            return Err(DatatypeError::KeyValuePairs(s.to_string()));
        };
        if eq != "=" {
            return Err(DatatypeError::KeyValuePairs(s.to_string()));
        }
        let value = value.trim_matches(['\'', '"']).to_string();
        match pairs.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => pairs.push((key.clone(), value)),
        }
        i += 4;
    }
    Ok(pairs)
}

/// What `logfile_name` makes of a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogfileName {
    /// `none` or `off`: no log file.
    None,
    /// `auto`: supervisord picks a file in `childlogdir`.
    Auto,
    /// `syslog`: the deprecated special name.
    Syslog,
    /// A path whose directory exists (after `~` expansion).
    Path(String),
}

/// `logfile_name`: `none`/`off`, `auto`, `syslog` (any case), else [`existing_dirpath`].
pub fn logfile_name(s: &str) -> Result<LogfileName, DatatypeError> {
    match crate::python::lower(s).as_str() {
        "none" | "off" => Ok(LogfileName::None),
        "auto" => Ok(LogfileName::Auto),
        "syslog" => Ok(LogfileName::Syslog),
        _ => existing_dirpath(s).map(LogfileName::Path),
    }
}

/// The range check of `RangeCheckedConversion`, with Python's `repr()` of both numbers.
fn range_checked(n: &PyInt, min: i64, max: i64) -> Result<i64, DatatypeError> {
    let value = n.to_i64();
    if n.negative && value.is_none_or(|v| v < min) {
        return Err(DatatypeError::BelowLowerBound {
            value: n.decimal_repr(),
            bound: min.to_string(),
        });
    }
    match value {
        Some(v) if v < min => {
            Err(DatatypeError::BelowLowerBound { value: n.decimal_repr(), bound: min.to_string() })
        }
        Some(v) if v <= max => Ok(v),
        _ => {
            Err(DatatypeError::AboveUpperBound { value: n.decimal_repr(), bound: max.to_string() })
        }
    }
}

/// `port_number`: `integer` range-checked to 1..=65535.
pub fn port_number(s: &str) -> Result<u16, DatatypeError> {
    let n = python_int(s)?;
    let v = range_checked(&n, 1, 0xffff)?;
    u16::try_from(v).map_err(|_| DatatypeError::OutOfRange(s.to_string()))
}

/// `inet_address`: `host:port` split at the last colon (host lower-cased), or a bare port; an
/// empty host or `*` means all interfaces and comes back as `""`.
pub fn inet_address(s: &str) -> Result<(String, u16), DatatypeError> {
    let (host, port) = match s.rsplit_once(':') {
        Some((host, port)) => {
            if port.is_empty() {
                return Err(DatatypeError::NoPortNumber);
            }
            (crate::python::lower(host), port_number(port)?)
        }
        None => {
            let port = port_number(s).map_err(|_| DatatypeError::NotAPortNumber(s.to_string()))?;
            (String::new(), port)
        }
    };
    if host == "*" {
        return Ok((String::new(), port));
    }
    Ok((host, port))
}

/// `colon_separated_user_group`: `user` or `user:group` (names or ids) to `(uid, gid)`, with gid
/// -1 when no group is given. Any failure is reported as the whole definition being invalid.
pub fn colon_separated_user_group(s: &str) -> Result<(i64, i64), DatatypeError> {
    let invalid = || DatatypeError::UserGroup(s.to_string());
    match s.split_once(':') {
        None => Ok((i64::from(name_to_uid(s).map_err(|_| invalid())?), -1)),
        Some((user, group)) => {
            let uid = name_to_uid(user).map_err(|_| invalid())?;
            let gid = name_to_gid(group).map_err(|_| invalid())?;
            Ok((i64::from(uid), i64::from(gid)))
        }
    }
}

/// The `u32` id an `int()` value names, if it can name one at all. Python hands `-1` to the C
/// call as `(uid_t)-1`, which never exists, so it is simply not an id here.
fn as_id(n: &PyInt) -> Option<u32> {
    n.to_i64().and_then(|v| u32::try_from(v).ok())
}

/// `name_to_uid`: a user name, or a numeric id that must exist in the password database.
pub fn name_to_uid(s: &str) -> Result<u32, DatatypeError> {
    match parse_int(s, 10) {
        Ok(n) => as_id(&n)
            .filter(|&uid| matches!(User::from_uid(Uid::from_raw(uid)), Ok(Some(_))))
            .ok_or_else(|| DatatypeError::UserId(s.to_string())),
        Err(_) => {
            if s.contains('\0') {
                return Err(DatatypeError::EmbeddedNull);
            }
            match User::from_name(s) {
                Ok(Some(user)) => Ok(user.uid.as_raw()),
                _ => Err(DatatypeError::UserName(s.to_string())),
            }
        }
    }
}

/// `name_to_gid`: a group name, or a numeric id that must exist in the group database. Where
/// Python's `grp.getgrgid` raises `OverflowError` (ids below -1 or beyond 32 bits) this reports
/// `Invalid group id`.
pub fn name_to_gid(s: &str) -> Result<u32, DatatypeError> {
    match parse_int(s, 10) {
        Ok(n) => as_id(&n)
            .filter(|&gid| matches!(Group::from_gid(Gid::from_raw(gid)), Ok(Some(_))))
            .ok_or_else(|| DatatypeError::GroupId(s.to_string())),
        Err(_) => {
            if s.contains('\0') {
                return Err(DatatypeError::EmbeddedNull);
            }
            match Group::from_name(s) {
                Ok(Some(group)) => Ok(group.gid.as_raw()),
                _ => Err(DatatypeError::GroupName(s.to_string())),
            }
        }
    }
}

/// `gid_for_uid`: the primary group of a user id (`None` where Python raises `KeyError`).
pub fn gid_for_uid(uid: u32) -> Option<u32> {
    match User::from_uid(Uid::from_raw(uid)) {
        Ok(Some(user)) => Some(user.gid.as_raw()),
        _ => None,
    }
}

/// `octal_type`: `int(s, 8)` (`022`, `0o22`, `22`, signs and underscores as Python). Like
/// Python it accepts any integer, negative ones included; what a mode or mask does with the value
/// is decided where it is applied.
pub fn octal_type(s: &str) -> Result<i64, DatatypeError> {
    let n = parse_int(s, 8).map_err(|_| DatatypeError::Octal(s.to_string()))?;
    n.to_i64().ok_or_else(|| DatatypeError::OutOfRange(s.to_string()))
}

/// Python's `os.path.expanduser`, including the `ValueError` (`embedded null byte`) that
/// `pwd.getpwnam` raises for a NUL in `~name`.
pub fn checked_expanduser(path: &str) -> Result<String, DatatypeError> {
    let Some(rest) = path.strip_prefix('~') else {
        return Ok(path.to_string());
    };
    let end = rest.find('/').unwrap_or(rest.len());
    let (name, tail) = rest.split_at(end);
    let home = if name.is_empty() {
        match std::env::var_os("HOME") {
            Some(home) => home.to_string_lossy().into_owned(),
            None => match User::from_uid(nix::unistd::getuid()) {
                Ok(Some(user)) => user.dir.to_string_lossy().into_owned(),
                _ => return Ok(path.to_string()),
            },
        }
    } else {
        if name.contains('\0') {
            return Err(DatatypeError::EmbeddedNull);
        }
        match User::from_name(name) {
            Ok(Some(user)) => user.dir.to_string_lossy().into_owned(),
            _ => return Ok(path.to_string()),
        }
    };
    let joined = format!("{}{}", home.trim_end_matches('/'), tail);
    Ok(if joined.is_empty() { "/".to_string() } else { joined })
}

/// Python's `os.path.expanduser`: `~` from `$HOME` (else the password database), `~name` from
/// the password database; unknown users leave the path unchanged. (Where Python raises for a NUL
/// in `~name`, the path is returned unchanged.)
pub fn expanduser(s: &str) -> String {
    checked_expanduser(s).unwrap_or_else(|_| s.to_string())
}

/// Python's `os.path.isdir`: follows symlinks; any error (including a NUL) is `false`.
fn is_dir(p: &str) -> bool {
    !p.is_empty() && std::fs::metadata(Path::new(p)).is_ok_and(|m| m.is_dir())
}

/// `existing_dirpath`: the `~`-expanded path, whose directory part must exist; a bare relative
/// name has no directory part and is returned as is.
pub fn existing_dirpath(s: &str) -> Result<String, DatatypeError> {
    let expanded = checked_expanduser(s)?;
    let dir = crate::config::paths::dirname(&expanded);
    if dir.is_empty() || is_dir(dir) {
        return Ok(expanded);
    }
    Err(DatatypeError::MissingParentDirectory(s.to_string()))
}

/// `existing_directory`: the `~`-expanded path, which must be a directory.
pub fn existing_directory(s: &str) -> Result<String, DatatypeError> {
    let expanded = checked_expanduser(s)?;
    if is_dir(&expanded) {
        return Ok(expanded);
    }
    Err(DatatypeError::NotADirectory(s.to_string()))
}

/// Supervisor's `options.normalize_path`:
/// `os.path.normpath(os.path.abspath(os.path.expanduser(v)))` against the process CWD. (Where
/// Python raises for a NUL in `~name`, the path is used unexpanded; see
/// [`checked_normalize_path`]. If the CWD cannot be read, where Python raises, the path is
/// normalised as given.)
pub fn normalize_path(s: &str) -> String {
    crate::config::paths::abspath(&expanduser(s))
}

/// [`normalize_path`], with Python's `embedded null byte` error for a NUL in `~name`.
pub fn checked_normalize_path(s: &str) -> Result<String, DatatypeError> {
    Ok(crate::config::paths::abspath(&checked_expanduser(s)?))
}

/// Supervisor's log levels (`loggers.LevelsByName`), ordered by severity number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Blather = 3,
    Trace = 5,
    Debug = 10,
    Info = 20,
    Warn = 30,
    Error = 40,
    Critical = 50,
}

impl LogLevel {
    /// The level with this number (`3`, `5`, `10`, ... `50`), if there is one.
    pub fn from_number(n: i64) -> Option<LogLevel> {
        [
            LogLevel::Blather,
            LogLevel::Trace,
            LogLevel::Debug,
            LogLevel::Info,
            LogLevel::Warn,
            LogLevel::Error,
            LogLevel::Critical,
        ]
        .into_iter()
        .find(|l| l.number() == n)
    }

    /// The severity number (`LevelsByName.*`).
    pub fn number(self) -> i64 {
        self as i64
    }

    /// The four-letter name written in log lines (`CRIT`, `ERRO`, ...).
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Critical => "CRIT",
            LogLevel::Error => "ERRO",
            LogLevel::Warn => "WARN",
            LogLevel::Info => "INFO",
            LogLevel::Debug => "DEBG",
            LogLevel::Trace => "TRAC",
            LogLevel::Blather => "BLAT",
        }
    }

    /// The name used in config files (`LevelsByDescription`).
    pub fn description(self) -> &'static str {
        match self {
            LogLevel::Critical => "critical",
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
            LogLevel::Blather => "blather",
        }
    }
}

/// `logging_level`: a level description in any case (`warn`, not `warning`).
pub fn logging_level(s: &str) -> Result<LogLevel, DatatypeError> {
    match crate::python::lower(s).as_str() {
        "critical" => Ok(LogLevel::Critical),
        "error" => Ok(LogLevel::Error),
        "warn" => Ok(LogLevel::Warn),
        "info" => Ok(LogLevel::Info),
        "debug" => Ok(LogLevel::Debug),
        "trace" => Ok(LogLevel::Trace),
        "blather" => Ok(LogLevel::Blather),
        _ => Err(DatatypeError::LoggingLevel(s.to_string())),
    }
}

/// `byte_size`: an `int()` with an optional `kb`/`mb`/`gb` suffix (any case) multiplying by
/// 1024ⁿ. The error quotes the lower-cased text without its suffix, as Python does. Products
/// beyond `i64` are refused with [`DatatypeError::OutOfRange`].
pub fn byte_size(s: &str) -> Result<i64, DatatypeError> {
    let lowered = crate::python::lower(s);
    let (number, multiplier) = [("kb", 1i64 << 10), ("mb", 1 << 20), ("gb", 1 << 30)]
        .into_iter()
        .find_map(|(suffix, m)| lowered.strip_suffix(suffix).map(|n| (n, m)))
        .unwrap_or((lowered.as_str(), 1));
    python_int(number)?
        .to_i64()
        .and_then(|v| v.checked_mul(multiplier))
        .ok_or_else(|| DatatypeError::OutOfRange(s.to_string()))
}

/// `uses_params` of `urllib.parse`: the schemes whose path loses a `;params` part.
const USES_PARAMS: [&str; 16] = [
    "", "ftp", "hdl", "prospero", "http", "imap", "https", "shttp", "rtsp", "rtsps", "rtspu",
    "sip", "sips", "mms", "sftp", "tel",
];

/// Characters whose NFKC form holds one of `/?#@:`, which `urlsplit` refuses in a non-ASCII
/// netloc (Python 3.11's Unicode 14 data).
fn nfkc_has_url_delimiter(c: char) -> bool {
    matches!(
        c as u32,
        0x2047
            | 0x2048
            | 0x2049
            | 0x2100
            | 0x2101
            | 0x2105
            | 0x2106
            | 0x2A74
            | 0xFE13
            | 0xFE16
            | 0xFE55
            | 0xFE56
            | 0xFE5F
            | 0xFE6B
            | 0xFF03
            | 0xFF0F
            | 0xFF1A
            | 0xFF1F
            | 0xFF20
    )
}

/// `ipaddress.IPv4Address(s)` accepts `s`: four decimal octets, no leading zeros.
fn is_ipv4(s: &str) -> bool {
    let octets: Vec<&str> = s.split('.').collect();
    octets.len() == 4
        && octets.iter().all(|o| {
            !o.is_empty()
                && o.len() <= 3
                && o.bytes().all(|b| b.is_ascii_digit())
                && (*o == "0" || !o.starts_with('0'))
                && o.parse::<u16>().is_ok_and(|v| v <= 255)
        })
}

/// `ipaddress.IPv6Address(s)` accepts `s` (with an optional `%scope`).
fn is_ipv6(s: &str) -> bool {
    let addr = match s.split_once('%') {
        Some((_, scope)) if scope.is_empty() || scope.contains('%') => return false,
        Some((addr, _)) => addr,
        None => s,
    };
    let mut parts: Vec<String> = addr.split(':').map(str::to_string).collect();
    if parts.len() < 3 {
        return false;
    }
    if parts.last().is_some_and(|p| p.contains('.')) {
        let Some(v4) = parts.pop() else { return false };
        if !is_ipv4(&v4) {
            return false;
        }
        // Two hextets stand in for the dotted quad; only their validity matters here.
        parts.push("0".to_string());
        parts.push("0".to_string());
    }
    if parts.len() > 9 {
        return false;
    }
    let n = parts.len();
    let mut skip_index = None;
    for (i, part) in parts.iter().enumerate().take(n - 1).skip(1) {
        if part.is_empty() {
            if skip_index.is_some() {
                return false;
            }
            skip_index = Some(i);
        }
    }
    let (hi, lo) = match skip_index {
        Some(skip) => {
            let mut hi = skip;
            let mut lo = n - skip - 1;
            if parts[0].is_empty() {
                hi -= 1;
                if hi != 0 {
                    return false;
                }
            }
            if parts[n - 1].is_empty() {
                lo -= 1;
                if lo != 0 {
                    return false;
                }
            }
            if hi + lo >= 8 {
                return false;
            }
            (hi, lo)
        }
        None => {
            if n != 8 || parts[0].is_empty() || parts[n - 1].is_empty() {
                return false;
            }
            (n, 0)
        }
    };
    let hextet_ok =
        |p: &String| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_hexdigit());
    parts[..hi].iter().all(hextet_ok) && parts[n - lo..].iter().all(hextet_ok)
}

/// `urllib.parse._check_bracketed_host`.
fn check_bracketed_host(host: &str) -> Result<(), DatatypeError> {
    if let Some(rest) = host.strip_prefix('v') {
        // \Av[a-fA-F0-9]+\..+\Z, where `.+` is anything non-empty once newlines are gone.
        let hex_len = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
        let valid =
            hex_len > 0 && rest[hex_len..].strip_prefix('.').is_some_and(|tail| !tail.is_empty());
        return if valid { Ok(()) } else { Err(DatatypeError::InvalidIpvFuture) };
    }
    if is_ipv4(host) {
        Err(DatatypeError::Ipv4InBrackets)
    } else if is_ipv6(host) {
        Ok(())
    } else {
        Err(DatatypeError::NotAnIpAddress(host.to_string()))
    }
}

/// The scheme, netloc and path of `urllib.parse.urlparse(value)`, with its `ValueError`s.
fn urlparse_parts(value: &str) -> Result<(String, String, String), DatatypeError> {
    let url: String = value
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
        .collect();
    let mut scheme = String::new();
    let mut rest = url.as_str();
    if let Some(i) = url.find(':')
        && i > 0
        && url.starts_with(|c: char| c.is_ascii_alphabetic())
        && url[..i].chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        scheme = url[..i].to_ascii_lowercase();
        rest = &url[i + 1..];
    }
    let mut netloc = "";
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        netloc = &after[..end];
        rest = &after[end..];
        let (open, close) = (netloc.contains('['), netloc.contains(']'));
        if open != close {
            return Err(DatatypeError::InvalidIpv6Url);
        }
        if let Some((_, after_open)) = netloc.split_once('[')
            && close
        {
            let host = after_open.split(']').next().unwrap_or(after_open);
            check_bracketed_host(host)?;
        }
    }
    let mut path = rest;
    if let Some((p, _fragment)) = path.split_once('#') {
        path = p;
    }
    if let Some((p, _query)) = path.split_once('?') {
        path = p;
    }
    if !netloc.is_ascii() && netloc.chars().any(nfkc_has_url_delimiter) {
        return Err(DatatypeError::NetlocNfkc(netloc.to_string()));
    }
    if USES_PARAMS.contains(&scheme.as_str()) && path.contains(';') {
        // `_splitparams`: the params start at the first ';' after the last '/'.
        let from = path.rfind('/').unwrap_or(0);
        if let Some(i) = path[from..].find(';') {
            path = &path[..from + i];
        }
    }
    Ok((scheme, netloc.to_string(), path.to_string()))
}

/// `url`: the value itself, if `urlparse` finds a scheme and a netloc or path.
pub fn url(s: &str) -> Result<String, DatatypeError> {
    let (scheme, netloc, path) = urlparse_parts(s)?;
    if !scheme.is_empty() && (!netloc.is_empty() || !path.is_empty()) {
        Ok(s.to_string())
    } else {
        Err(DatatypeError::NotAUrl(s.to_string()))
    }
}

/// Every `SIG*` attribute of Python 3.11's `signal` module on Linux x86_64 (`dir(signal)`), with
/// aliases and the handler/mask constants, which supervisor accepts too.
const SIGNALS: [(&str, i32); 41] = [
    ("SIGABRT", 6),
    ("SIGALRM", 14),
    ("SIGBUS", 7),
    ("SIGCHLD", 17),
    ("SIGCLD", 17),
    ("SIGCONT", 18),
    ("SIGFPE", 8),
    ("SIGHUP", 1),
    ("SIGILL", 4),
    ("SIGINT", 2),
    ("SIGIO", 29),
    ("SIGIOT", 6),
    ("SIGKILL", 9),
    ("SIGPIPE", 13),
    ("SIGPOLL", 29),
    ("SIGPROF", 27),
    ("SIGPWR", 30),
    ("SIGQUIT", 3),
    ("SIGRTMAX", 64),
    ("SIGRTMIN", 34),
    ("SIGSEGV", 11),
    ("SIGSTKFLT", 16),
    ("SIGSTOP", 19),
    ("SIGSYS", 31),
    ("SIGTERM", 15),
    ("SIGTRAP", 5),
    ("SIGTSTP", 20),
    ("SIGTTIN", 21),
    ("SIGTTOU", 22),
    ("SIGURG", 23),
    ("SIGUSR1", 10),
    ("SIGUSR2", 12),
    ("SIGVTALRM", 26),
    ("SIGWINCH", 28),
    ("SIGXCPU", 24),
    ("SIGXFSZ", 25),
    ("SIG_BLOCK", 0),
    ("SIG_DFL", 0),
    ("SIG_IGN", 1),
    ("SIG_SETMASK", 2),
    ("SIG_UNBLOCK", 1),
];

/// `signal_number`: an `int()` that is one of the values in `SIGNALS` (0 to 31, 34 and 64), or
/// a name from it in any case, with or without `SIG`, surrounding whitespace ignored.
pub fn signal_number(s: &str) -> Result<i32, DatatypeError> {
    let num = match parse_int(s, 10) {
        Ok(n) => n.to_i64(),
        Err(_) => {
            let upper = crate::python::upper(strip(s));
            let name = if upper.starts_with("SIG") { upper } else { format!("SIG{upper}") };
            let found = SIGNALS.iter().find(|(n, _)| *n == name);
            let Some(&(_, num)) = found else {
                return Err(DatatypeError::SignalName(s.to_string()));
            };
            Some(i64::from(num))
        }
    };
    num.and_then(|n| i32::try_from(n).ok())
        .filter(|n| SIGNALS.iter().any(|&(_, v)| v == *n))
        .ok_or_else(|| DatatypeError::SignalNumber(s.to_string()))
}

/// What `auto_restart` makes of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoRestart {
    Never,
    Unexpected,
    Always,
}

/// `auto_restart`: a boolean word or `unexpected`, any case. The error quotes the lower-cased
/// value, as Python does.
pub fn auto_restart(s: &str) -> Result<AutoRestart, DatatypeError> {
    let lowered = crate::python::lower(s);
    if TRUTHY_STRINGS.contains(&lowered.as_str()) {
        Ok(AutoRestart::Always)
    } else if FALSY_STRINGS.contains(&lowered.as_str()) {
        Ok(AutoRestart::Never)
    } else if lowered == "unexpected" {
        Ok(AutoRestart::Unexpected)
    } else {
        Err(DatatypeError::AutoRestart(lowered))
    }
}

/// `profile_options`: the lower-cased comma list as profiler sort keys, and whether `callers`
/// was among them.
pub fn profile_options(s: &str) -> (Vec<String>, bool) {
    let mut callers = false;
    let mut sort = Vec::new();
    for option in list_of_strings(s) {
        let option = crate::python::lower(&option);
        if option == "callers" {
            callers = true;
        } else {
            sort.push(option);
        }
    }
    (sort, callers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err<T: std::fmt::Debug>(r: Result<T, DatatypeError>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn integer_follows_python_int() {
        assert_eq!(integer(" 42 "), Ok(42));
        assert_eq!(integer("-1_000"), Ok(-1000));
        assert_eq!(integer("+007"), Ok(7));
        assert_eq!(integer("\u{3000}١٢\u{a0}"), Ok(12));
        assert_eq!(integer("\x0b5\x0c"), Ok(5));
        assert_eq!(integer("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(err(integer("x")), "invalid literal for int() with base 10: 'x'");
        for bad in ["", " ", "+", "1__0", "_1", "1_", "- 1", "\x1c1", "1\0", "0x10", "1\u{200b}"] {
            assert!(matches!(integer(bad), Err(DatatypeError::InvalidInt(_))), "{bad:?}");
        }
        let long = "x".repeat(300);
        let msg = err(integer(&long));
        assert_eq!(msg.len(), "invalid literal for int() with base 10: ".len() + 200);
        assert!(!msg.ends_with('\''));
        assert_eq!(
            err(integer(&"1".repeat(4301))),
            "Exceeds the limit (4300 digits) for integer string conversion: value has 4301 \
             digits; use sys.set_int_max_str_digits() to increase the limit"
        );
        assert!(integer(&"1".repeat(4300)).is_err());
        assert!(matches!(integer("9223372036854775808"), Err(DatatypeError::OutOfRange(_))));
    }

    #[test]
    fn booleans_and_lists() {
        assert_eq!(boolean("YeS"), Ok(true));
        assert_eq!(boolean("0"), Ok(false));
        assert_eq!(err(boolean(" yes")), "not a valid boolean value: ' yes'");
        assert_eq!(list_of_strings(""), Vec::<String>::new());
        assert_eq!(list_of_strings(" "), vec![""]);
        assert_eq!(list_of_strings(" a , b,"), vec!["a", "b", ""]);
        assert_eq!(list_of_exitcodes("0, 2 ,255"), Ok(vec![0, 2, 255]));
        assert_eq!(list_of_exitcodes(""), Ok(vec![]));
        assert_eq!(err(list_of_exitcodes("0,256")), "not a valid list of exit codes: '0,256'");
        assert!(list_of_exitcodes("0,").is_err());
        assert_eq!(profile_options("Cumulative, CALLERS"), (vec!["cumulative".to_string()], true));
    }

    fn kv(s: &str) -> Vec<(String, String)> {
        dict_of_key_value_pairs(s).unwrap()
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn key_value_pairs_follow_shlex() {
        assert_eq!(kv("A=1,B=2"), pairs(&[("A", "1"), ("B", "2")]));
        assert_eq!(kv("A=\"x, y\""), pairs(&[("A", "x, y")]));
        assert_eq!(kv("A=1,B=2,A=3"), pairs(&[("A", "3"), ("B", "2")]));
        assert_eq!(kv("PATH=/usr/bin:(x)+y"), pairs(&[("PATH", "/usr/bin:(x)+y")]));
        // The fourth token is skipped whatever it is; 'é' is not a word character.
        assert_eq!(kv("A=café"), pairs(&[("A", "caf")]));
        assert_eq!(kv("A=1 B==x"), pairs(&[("A", "1"), ("=", "x")]));
        assert!(dict_of_key_value_pairs("A=1 B=2").is_err());
        // Quotes stay in keys and inside words.
        assert_eq!(kv("'k'=v"), pairs(&[("'k'", "v")]));
        assert_eq!(kv("A=b'c"), pairs(&[("A", "b'c")]));
        // A comment inside a word is skipped and the word goes on on the next line.
        assert_eq!(kv("A=b#x\nc"), pairs(&[("A", "bc")]));
        assert_eq!(kv("# only a comment"), pairs(&[]));
        assert_eq!(kv(""), pairs(&[]));
        assert_eq!(
            err(dict_of_key_value_pairs("A=1,B")),
            "Unexpected end of key/value pairs in value 'A=1,B'"
        );
        assert_eq!(err(dict_of_key_value_pairs("A='1")), "No closing quotation");
    }

    #[test]
    fn sizes_octals_and_signals() {
        assert_eq!(byte_size("10MB"), Ok(10 << 20));
        assert_eq!(byte_size(" 2 kb"), Ok(2048));
        assert_eq!(byte_size("-1GB"), Ok(-(1 << 30)));
        assert_eq!(err(byte_size("10XB")), "invalid literal for int() with base 10: '10xb'");
        assert_eq!(err(byte_size("abcKB")), "invalid literal for int() with base 10: 'abc'");
        assert_eq!(err(byte_size("kb")), "invalid literal for int() with base 10: ''");
        assert!(matches!(byte_size("9999999999GB"), Err(DatatypeError::OutOfRange(_))));
        assert_eq!(octal_type("022"), Ok(0o22));
        assert_eq!(octal_type(" 0o7_7 "), Ok(0o77));
        assert_eq!(octal_type("0o_7"), Ok(7));
        assert_eq!(octal_type("٧"), Ok(7));
        assert_eq!(err(octal_type("8")), "8 can not be converted to an octal type");
        assert_eq!(err(octal_type("0o")), "0o can not be converted to an octal type");
        assert_eq!(octal_type("-1"), Ok(-1));
        assert_eq!(octal_type("-0"), Ok(0));
        assert_eq!(signal_number("term"), Ok(15));
        assert_eq!(signal_number(" SigKill "), Ok(9));
        assert_eq!(signal_number("sıgterm"), Ok(15));
        assert_eq!(signal_number("_dfl"), Ok(0));
        assert_eq!(signal_number("rtmax"), Ok(64));
        assert_eq!(signal_number("9"), Ok(9));
        assert_eq!(err(signal_number("FOO")), "value 'FOO' is not a valid signal name");
        assert_eq!(err(signal_number("35")), "value '35' is not a valid signal number");
        assert_eq!(
            err(signal_number("99999999999999999999999")),
            "value '99999999999999999999999' is not a valid signal number"
        );
    }

    #[test]
    fn levels_restarts_and_names() {
        assert_eq!(logging_level("WARN"), Ok(LogLevel::Warn));
        assert_eq!(LogLevel::Blather.number(), 3);
        assert_eq!(LogLevel::Critical.name(), "CRIT");
        assert!(LogLevel::Trace < LogLevel::Debug);
        assert_eq!(err(logging_level("warning")), "bad logging level name 'warning'");
        assert!(logging_level("__module__").is_err());
        assert_eq!(auto_restart("Unexpected"), Ok(AutoRestart::Unexpected));
        assert_eq!(auto_restart("off"), Ok(AutoRestart::Never));
        assert_eq!(auto_restart("TRUE"), Ok(AutoRestart::Always));
        assert_eq!(err(auto_restart("SomeTimes")), "invalid 'autorestart' value 'sometimes'");
        assert_eq!(process_or_group_name("  web  "), Ok("web".to_string()));
        assert_eq!(
            err(process_or_group_name(" a b")),
            "Invalid name: ' a b' because of character: ' '"
        );
        assert_eq!(
            err(process_or_group_name("a:b/c")),
            "Invalid name: 'a:b/c' because of character: ':'"
        );
    }

    #[test]
    fn ports_and_addresses() {
        assert_eq!(port_number("80"), Ok(80));
        assert_eq!(err(port_number("0")), "0 is below lower bound (1)");
        assert_eq!(err(port_number("-0")), "0 is below lower bound (1)");
        assert_eq!(err(port_number("70000")), "70000 is above upper bound (65535)");
        assert_eq!(
            err(port_number("-99999999999999999999")),
            "-99999999999999999999 is below lower bound (1)"
        );
        assert_eq!(
            err(port_number("0099999999999999999999")),
            "99999999999999999999 is above upper bound (65535)"
        );
        assert_eq!(inet_address("LocalHost:9001"), Ok(("localhost".into(), 9001)));
        assert_eq!(inet_address("*:80"), Ok((String::new(), 80)));
        assert_eq!(inet_address(":80"), Ok((String::new(), 80)));
        assert_eq!(inet_address("80"), Ok((String::new(), 80)));
        assert_eq!(inet_address("::1:80"), Ok(("::1".into(), 80)));
        assert_eq!(err(inet_address("abc")), "not a valid port number: 'abc' ");
        assert_eq!(err(inet_address("0")), "not a valid port number: '0' ");
        assert_eq!(err(inet_address("host:")), "no port number specified in ''");
        assert_eq!(err(inet_address("host:abc")), "invalid literal for int() with base 10: 'abc'");
    }

    #[test]
    fn urls() {
        assert!(url("http://localhost:9001").is_ok());
        assert!(url("unix:///tmp/supervisor.sock").is_ok());
        assert!(url("foo:bar").is_ok());
        assert_eq!(err(url("foo")), "value 'foo' is not a URL");
        assert_eq!(err(url("http:")), "value 'http:' is not a URL");
        assert_eq!(err(url("http:;x")), "value 'http:;x' is not a URL");
        assert!(url("foo:;x").is_ok());
        assert_eq!(err(url("1http://x")), "value '1http://x' is not a URL");
        assert!(url(" \x01http://x").is_ok());
        assert_eq!(err(url("http://[::1")), "Invalid IPv6 URL");
        assert!(url("http://[::1]:80").is_ok());
        assert!(url("http://[fe80::1%eth0]").is_ok());
        assert!(url("http://[::ffff:1.2.3.4]").is_ok());
        assert_eq!(err(url("http://[1.2.3.4]")), "An IPv4 address cannot be in brackets");
        assert_eq!(err(url("http://[vz.1]")), "IPvFuture address is invalid");
        assert!(url("http://[v1f.x]").is_ok());
        assert_eq!(err(url("http://[x]")), "'x' does not appear to be an IPv4 or IPv6 address");
        assert_eq!(
            err(url("http://a\u{2100}b")),
            "netloc 'a\u{2100}b' contains invalid characters under NFKC normalization"
        );
        assert!(url("http://é").is_ok());
    }

    #[test]
    fn ipv6_forms() {
        for good in ["::", "::1", "1::", "1:2:3:4:5:6:7:8", "1::8", "::ffff:1.2.3.4", "a:b::c%1"] {
            assert!(is_ipv6(good), "{good}");
        }
        for bad in [
            "",
            ":",
            "1:2",
            ":::",
            "1:2:3:4:5:6:7:8:9",
            "1::2::3",
            ":1::",
            "1:2:3:4:5:6:7::8",
            "12345::",
            "g::",
            "::1%",
            "::1%a%b",
            "1:2:3:4:5:6:7:",
            "::1.2.3.04",
        ] {
            assert!(!is_ipv6(bad), "{bad}");
        }
        assert!(is_ipv6("1:2:3:4:5:6::"));
        assert!(is_ipv6("1:2:3:4:5:6:1.2.3.4"));
        assert!(!is_ipv6("1:2:3:4:5:6:7:1.2.3.4"));
    }

    #[test]
    fn paths() {
        let home = std::env::var("HOME").unwrap_or_default();
        assert_eq!(expanduser("~/x"), format!("{}/x", home.trim_end_matches('/')));
        assert_eq!(expanduser("a/~"), "a/~");
        assert_eq!(expanduser("~no_such_user_xyz/x"), "~no_such_user_xyz/x");
        assert_eq!(expanduser("~root/x"), "/root/x");
        assert_eq!(err(existing_dirpath("~a\0b/x")), "embedded null byte");
        assert_eq!(err(checked_expanduser("~a\0b/x")), "embedded null byte");
        assert_eq!(expanduser("~a\0b/x"), "~a\0b/x");
        assert_eq!(err(checked_normalize_path("~a\0b")), "embedded null byte");
        assert_eq!(checked_normalize_path("/a\0/../b"), Ok("/b".into()));
        assert_eq!(existing_dirpath("name.log"), Ok("name.log".into()));
        assert_eq!(existing_dirpath("/tmp/x.log"), Ok("/tmp/x.log".into()));
        assert_eq!(
            err(existing_dirpath("/no/such/dir/x.log")),
            "The directory named as part of the path /no/such/dir/x.log does not exist"
        );
        assert_eq!(existing_directory("/tmp"), Ok("/tmp".into()));
        assert_eq!(err(existing_directory("/no/such")), "/no/such is not an existing directory");
        assert_eq!(normalize_path("/a/b/../c"), "/a/c");
        assert!(normalize_path("x").ends_with("/x"));
    }

    #[test]
    fn users_and_groups() {
        assert_eq!(name_to_uid("root"), Ok(0));
        assert_eq!(name_to_uid(" 0 "), Ok(0));
        assert_eq!(err(name_to_uid("no_such_user_xyz")), "Invalid user name no_such_user_xyz");
        assert_eq!(err(name_to_uid("4294967295")), "Invalid user id 4294967295");
        assert_eq!(err(name_to_uid("-1")), "Invalid user id -1");
        assert_eq!(err(name_to_uid("a\0")), "embedded null byte");
        assert_eq!(name_to_gid("root"), Ok(0));
        assert_eq!(err(name_to_gid("-2")), "Invalid group id -2");
        assert_eq!(gid_for_uid(0), Some(0));
        assert_eq!(colon_separated_user_group("root"), Ok((0, -1)));
        assert_eq!(colon_separated_user_group("0:root"), Ok((0, 0)));
        assert_eq!(
            err(colon_separated_user_group("root:no_such_group_xyz")),
            "Invalid user:group definition root:no_such_group_xyz"
        );
    }

    #[test]
    fn case_mapping_matches_python() {
        assert_eq!(crate::python::lower("İ"), "i\u{307}");
        assert_eq!(crate::python::lower("AΣ"), "aς");
        assert_eq!(crate::python::lower("\u{a7cb}A"), "\u{a7cb}a");
        assert_eq!(crate::python::upper("ßı"), "SSI");
        assert_eq!(crate::python::upper("\u{264}"), "\u{264}");
        assert_eq!(crate::python::decimal_value('٣'), Some(3));
        assert_eq!(crate::python::decimal_value('\u{1d7ff}'), Some(9));
        assert_eq!(crate::python::decimal_value('a'), None);
        assert_eq!(crate::python::decimal_value('\u{6fa}'), None);
    }
}
