//! The web UI's form: query strings and POST bodies read as `web.py` reads them (Python's
//! `parse_qs`/`parse_qsl` with blank values dropped), and `urllib.parse.quote` for the URLs it
//! writes.

use std::collections::HashMap;

/// `urllib.parse.unquote` after `+` → space: `%XX` decoded, the bytes read as UTF-8 with
/// U+FFFD for what is not.
pub fn unquote_plus(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() && hex_pair(bytes[i + 1], bytes[i + 2]).is_some() => {
                out.extend(hex_pair(bytes[i + 1], bytes[i + 2]));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_pair(a: u8, b: u8) -> Option<u8> {
    let digit = |c: u8| (c as char).to_digit(16);
    Some((digit(a)? * 16 + digit(b)?) as u8)
}

/// `parse_qsl(s)`: `name=value` fields split on `&`; a field without `=` or with an empty value
/// is dropped (`keep_blank_values=False`).
pub fn parse_qsl(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter_map(|field| {
            let (name, value) = field.split_once('=')?;
            (!value.is_empty()).then(|| (unquote_plus(name), unquote_plus(value)))
        })
        .collect()
}

/// The form `web.py` builds: the query's first value per name, then the body's last value per
/// name over it.
pub fn form(query: &str, body: &str) -> HashMap<String, String> {
    let mut form = HashMap::new();
    for (name, value) in parse_qsl(query) {
        form.entry(name).or_insert(value);
    }
    for (name, value) in parse_qsl(body) {
        form.insert(name, value);
    }
    form
}

/// `urllib.parse.quote(s)` (safe `/`): UTF-8, with everything but `A-Za-z0-9_.-~/` as `%XX`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"_.-~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_read_as_python_reads_them() {
        let f = form("processname=a%3Ab&action=stop&action=start&empty=&bare", "");
        assert_eq!(f.get("processname").map(String::as_str), Some("a:b"));
        assert_eq!(f.get("action").map(String::as_str), Some("stop"));
        assert!(!f.contains_key("empty") && !f.contains_key("bare"));
        let f = form("action=stop", "action=start&action=restart&message=a+b%20c");
        assert_eq!(f.get("action").map(String::as_str), Some("restart"));
        assert_eq!(f.get("message").map(String::as_str), Some("a b c"));
        assert_eq!(unquote_plus("%zz%4"), "%zz%4");
        assert_eq!(unquote_plus("caf%C3%A9%FF"), "café\u{fffd}");
    }

    #[test]
    fn quote_keeps_what_python_keeps() {
        assert_eq!(quote("grp:a b*[é]/x-_.~"), "grp%3Aa%20b%2A%5B%C3%A9%5D/x-_.~");
    }
}
