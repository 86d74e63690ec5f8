//! Python text rules that supervisor's user-visible strings depend on: `repr()` of a str,
//! `str.isspace()`, `str.lower()`/`upper()` and decimal digits as of Python 3.11's Unicode 14, and
//! `binascii.a2b_base64`'s lenient decoding.
//!
//! Supervisor builds many of its error messages with `%r`, so a faithful `repr` is what makes our
//! messages byte-identical to Python's.

/// Python's `str.isspace()` for one character: Unicode whitespace plus the ASCII information
/// separators `\x1c`..`\x1f`, which Python counts as whitespace and Rust does not.
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Python's `str.strip()` with no argument.
pub fn strip(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// Python's `str.isprintable()` for one character, approximated without the Unicode database:
/// controls, separators other than the ASCII space, the common format characters, surrogates and
/// private-use code points are not printable. Unassigned code points are treated as printable,
/// which is the one place this can differ from Python.
fn is_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let cp = c as u32;
    let format = matches!(cp,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x890..=0x891 | 0x8E2 | 0x180E
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF
        | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F);
    let private = matches!(cp, 0xE000..=0xF8FF | 0xF0000..=0xFFFFD | 0x100000..=0x10FFFD);
    let noncharacter = (cp & 0xFFFE) == 0xFFFE || (0xFDD0..=0xFDEF).contains(&cp);
    !(format || private || noncharacter)
}

/// Python's `repr()` of a `str`: single quotes unless the text holds a single quote and no double
/// quote, with Python's escapes for backslash, the chosen quote, `\t \n \r` and unprintable
/// characters.
pub fn repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if (c as u32) < 0x7f || is_printable(c) => out.push(c),
            c if (c as u32) <= 0xff => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push(quote);
    out
}

/// `str(OSError)` of an I/O error: `[Errno 28] No space left on device`, followed by
/// `: 'path'` when Python's exception carries the file name (as `open()`'s do). An error that
/// did not come from the OS is shown as its own text.
pub fn os_error(e: &std::io::Error, filename: Option<&str>) -> String {
    let Some(code) = e.raw_os_error() else { return e.to_string() };
    let text = format!("[Errno {code}] {}", nix::errno::Errno::from_raw(code).desc());
    match filename {
        Some(name) => format!("{text}: {}", repr(name)),
        None => text,
    }
}

/// Python's `str()` of a list of str, as in `positional arguments are not supported: ['a']`.
pub fn repr_list(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| repr(s)).collect();
    format!("[{}]", inner.join(", "))
}

/// Python 3.11's `str.lower()`. Rust's `to_lowercase` follows the same rules (full mappings and
/// the Final_Sigma context) but a newer Unicode version, so the code points Python 3.11 does not
/// know yet are kept as they are and treated as caseless, and Final_Sigma is decided with Python's
/// view of which characters are cased or case-ignorable.
pub fn lower(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        if c == 'Σ' {
            out.push(if is_final_sigma(&chars, i) { 'ς' } else { 'σ' });
        } else if unknown_to_python(c) {
            out.push(c);
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CaseClass {
    /// Skipped when looking for the letter before or after a capital sigma.
    Ignorable,
    Cased,
    Other,
}

/// Unicode's Final_Sigma: a cased letter before (case-ignorables skipped) and none after.
fn is_final_sigma(chars: &[char], i: usize) -> bool {
    let first_relevant = |c: &&char| case_class(**c) != CaseClass::Ignorable;
    let before = chars[..i].iter().rev().find(first_relevant);
    if before.map(|&c| case_class(c)) != Some(CaseClass::Cased) {
        return false;
    }
    let after = chars[i + 1..].iter().find(first_relevant);
    after.map(|&c| case_class(c)) != Some(CaseClass::Cased)
}

/// Python 3.11's case class of a character. Rust exposes neither Cased nor Case_Ignorable, but its
/// `to_lowercase` decides Final_Sigma with them, so a capital sigma after the character reveals
/// them; the exceptions are where Unicode 14 and Rust's version disagree.
fn case_class(c: char) -> CaseClass {
    match c {
        // Lowercase in Unicode 14, no longer in later versions.
        '\u{295}' => CaseClass::Cased,
        // Case-ignorable in Unicode 14, no longer in later versions.
        '\u{1171E}' => CaseClass::Ignorable,
        c if unknown_to_python(c) => CaseClass::Other,
        c => {
            if format!("{c}Σ").to_lowercase().ends_with('ς') {
                CaseClass::Cased
            } else if format!("Α{c}Σ").to_lowercase().ends_with('ς') {
                // The Greek capital alpha before is cased, so the character was skipped.
                CaseClass::Ignorable
            } else {
                CaseClass::Other
            }
        }
    }
}

/// Code points unassigned in Unicode 14 (Python 3.11) to which Rust 1.95's Unicode gives a
/// lowercase mapping or a case class; found by comparing the two over every code point.
fn unknown_to_python(c: char) -> bool {
    matches!(c as u32,
        0x897 | 0xECE | 0x1ACF..=0x1ADD | 0x1AE0..=0x1AEB | 0x1C89..=0x1C8A | 0xA7CB..=0xA7CF
        | 0xA7D2 | 0xA7D4 | 0xA7DA..=0xA7DC | 0xA7F1 | 0x10D4E | 0x10D50..=0x10D65
        | 0x10D69..=0x10D6D | 0x10D6F..=0x10D85 | 0x10EC5 | 0x10EFA..=0x10EFF | 0x11241
        | 0x113BB..=0x113C0 | 0x113CE | 0x113D0 | 0x113D2 | 0x113E1..=0x113E2 | 0x11B60
        | 0x11B62..=0x11B64 | 0x11B66 | 0x11DD9 | 0x11F00..=0x11F01 | 0x11F36..=0x11F3A
        | 0x11F40 | 0x11F42 | 0x11F5A | 0x13439..=0x13440 | 0x13447..=0x13455
        | 0x1611E..=0x16129 | 0x1612D..=0x1612F | 0x16D40..=0x16D42 | 0x16D6B..=0x16D6C
        | 0x16EA0..=0x16EB8 | 0x16EBB..=0x16ED3 | 0x16FF2..=0x16FF3 | 0x1DF25..=0x1DF2A
        | 0x1E030..=0x1E06D | 0x1E08F | 0x1E4EB..=0x1E4EF | 0x1E5EE..=0x1E5EF | 0x1E6E3
        | 0x1E6E6 | 0x1E6EE..=0x1E6EF | 0x1E6F5 | 0x1E6FF)
}

/// Characters whose uppercase mapping is newer than Python 3.11's Unicode 14: Python leaves
/// them unchanged by `upper()`, so we must too.
fn upper_is_newer_than_python(c: char) -> bool {
    matches!(c as u32,
        0x019B | 0x0264 | 0x1C8A | 0xA7CD | 0xA7CF | 0xA7D3 | 0xA7D5 | 0xA7DB
        | 0x10D70..=0x10D85 | 0x16EBB..=0x16ED3)
}

/// Python's `str.upper()` (full mappings: `'ß'` becomes `"SS"`, `'ı'` becomes `'I'`).
pub fn upper(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if upper_is_newer_than_python(c) {
            out.push(c);
        } else {
            out.extend(c.to_uppercase());
        }
    }
    out
}

/// Python's `UnicodeDecodeError` from reading a file in text mode as UTF-8, with its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'utf-8' codec can't decode {} in position {}: {reason}", self.what(), self.range())]
pub struct Utf8FileError {
    /// Byte offsets of the undecodable bytes within the decoder's input for that chunk.
    pub start: usize,
    pub end: usize,
    pub first_byte: u8,
    pub reason: &'static str,
    /// Where in the file the chunk whose decoding failed begins (carried-over bytes included).
    pub chunk_start: usize,
}

impl Utf8FileError {
    fn what(&self) -> String {
        if self.end - self.start == 1 {
            format!("byte 0x{:02x}", self.first_byte)
        } else {
            "bytes".to_string()
        }
    }

    fn range(&self) -> String {
        if self.end - self.start == 1 {
            self.start.to_string()
        } else {
            format!("{}-{}", self.start, self.end - 1)
        }
    }
}

/// The size of the chunks a Python text file decodes at a time (`TextIOWrapper._CHUNK_SIZE`);
/// the position in a decode error is relative to the chunk, so it shows in messages.
const TEXT_CHUNK_SIZE: usize = 8192;

/// Decodes a file's bytes as Python's UTF-8 text mode does, reporting the first bad sequence
/// the way CPython's incremental decoder does: an incomplete sequence at a chunk boundary is
/// carried into the next chunk, and positions count from the start of that decoder input.
pub fn decode_utf8_file(bytes: &[u8]) -> Result<String, Utf8FileError> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_string());
    }
    // Replay Python's chunked decode to find which decoder input reports the error.
    let mut input_start = 0;
    let mut chunk_end = 0;
    loop {
        chunk_end = (chunk_end + TEXT_CHUNK_SIZE).min(bytes.len());
        let last = chunk_end == bytes.len();
        let input = &bytes[input_start..chunk_end];
        let Err(e) = std::str::from_utf8(input) else {
            if last {
                // Unreachable (the whole file failed to decode), but never loop forever.
                return Ok(String::from_utf8_lossy(bytes).into_owned());
            }
            input_start = chunk_end;
            continue;
        };
        let bad = e.valid_up_to();
        let first_byte = input[bad];
        let (len, reason) = match e.error_len() {
            // An incomplete sequence at the end of a chunk waits for the next one.
            None if !last => {
                input_start += bad;
                continue;
            }
            None => (input.len() - bad, "unexpected end of data"),
            Some(1) if matches!(first_byte, 0x80..=0xC1 | 0xF5..=0xFF) => (1, "invalid start byte"),
            Some(n) => (n, "invalid continuation byte"),
        };
        return Err(Utf8FileError {
            start: bad,
            end: bad + len,
            first_byte,
            reason,
            chunk_start: input_start,
        });
    }
}

/// The code points of every Unicode (14.0, Python 3.11) decimal digit zero; each digit block is
/// the ten code points starting there, so a digit's value is its distance from the block start.
const DIGIT_ZEROS: &[u32] = &[
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
    0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650,
    0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50,
    0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
];

/// The value of a Unicode decimal digit (what Python's `\d` and `int()` accept), if `c` is one.
pub fn decimal_value(c: char) -> Option<u8> {
    let cp = c as u32;
    let i = DIGIT_ZEROS.partition_point(|&zero| zero <= cp);
    let zero = DIGIT_ZEROS[i.checked_sub(1)?];
    u8::try_from(cp - zero).ok().filter(|d| *d < 10)
}

/// The value of a standard base64 alphabet byte.
fn base64_value(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// `binascii.a2b_base64` in its default, non-strict mode (what `base64.decodebytes` calls):
/// bytes outside the alphabet are skipped, a complete pad sequence ends the data, and leftover
/// bits are an error. `None` where Python raises `binascii.Error`.
pub fn a2b_base64(data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len() / 4 * 3 + 3);
    let mut quad_pos = 0;
    let mut left = 0u8;
    let mut pads = 0;
    for &b in data {
        if b == b'=' {
            pads += 1;
            if quad_pos >= 2 && quad_pos + pads >= 4 {
                return Some(out);
            }
            continue;
        }
        let Some(v) = base64_value(b) else { continue };
        pads = 0;
        match quad_pos {
            0 => {
                left = v;
                quad_pos = 1;
            }
            1 => {
                out.push((left << 2) | (v >> 4));
                left = v & 0x0f;
                quad_pos = 2;
            }
            2 => {
                out.push((left << 4) | (v >> 2));
                left = v & 0x03;
                quad_pos = 3;
            }
            _ => {
                out.push((left << 6) | v);
                quad_pos = 0;
            }
        }
    }
    (quad_pos == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_matches_python() {
        assert_eq!(repr("abc"), "'abc'");
        assert_eq!(repr("it's"), "\"it's\"");
        assert_eq!(repr("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(repr("tab\there\n"), "'tab\\there\\n'");
        assert_eq!(repr("\x00\x7f\\"), "'\\x00\\x7f\\\\'");
        assert_eq!(repr("Malmö"), "'Malmö'");
        assert_eq!(repr("\u{a0}\u{85}"), "'\\xa0\\x85'");
        assert_eq!(repr("\u{200b}"), "'\\u200b'");
        assert_eq!(repr_list(&["foo".into(), "b'r".into()]), "['foo', \"b'r\"]");
    }

    #[test]
    fn decode_errors_match_python() {
        let msg = |b: &[u8]| decode_utf8_file(b).unwrap_err().to_string();
        let long = |n: usize, tail: &[u8]| [vec![b'a'; n], tail.to_vec()].concat();
        assert_eq!(
            msg(&long(9000, b"\xe9\n")),
            "'utf-8' codec can't decode byte 0xe9 in position 808: invalid continuation byte"
        );
        assert_eq!(
            msg(&long(8191, b"\xc3\xa9\xff")),
            "'utf-8' codec can't decode byte 0xff in position 2: invalid start byte"
        );
        assert_eq!(
            msg(&long(8190, b"\xe2\x82\xff")),
            "'utf-8' codec can't decode bytes in position 0-1: invalid continuation byte"
        );
        assert_eq!(
            msg(&long(20000, b"\x80")),
            "'utf-8' codec can't decode byte 0x80 in position 3616: invalid start byte"
        );
        assert_eq!(
            msg(b"abc\xe2\x82"),
            "'utf-8' codec can't decode bytes in position 3-4: unexpected end of data"
        );
        assert_eq!(
            msg(b"abc\xe2\x82x"),
            "'utf-8' codec can't decode bytes in position 3-4: invalid continuation byte"
        );
        assert_eq!(
            msg(&long(8191, b"\xe2\x82")),
            "'utf-8' codec can't decode bytes in position 0-1: unexpected end of data"
        );
        assert_eq!(decode_utf8_file("Malmö".as_bytes()).unwrap(), "Malmö");
    }

    #[test]
    fn isspace_matches_python() {
        assert!(is_space('\x1c'));
        assert!(is_space('\u{3000}'));
        assert!(!is_space('x'));
        assert_eq!(strip("\x1f a \t"), "a");
    }
}
