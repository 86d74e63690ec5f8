//! Python text rules that supervisor's user-visible strings depend on: `repr()` of a str and
//! `str.isspace()`.
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

/// Python's `str()` of a list of str, as in `positional arguments are not supported: ['a']`.
pub fn repr_list(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| repr(s)).collect();
    format!("[{}]", inner.join(", "))
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
    fn isspace_matches_python() {
        assert!(is_space('\x1c'));
        assert!(is_space('\u{3000}'));
        assert!(!is_space('x'));
        assert_eq!(strip("\x1f a \t"), "a");
    }
}
