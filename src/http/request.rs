//! Request heads read the way medusa reads them (`http_server.crack_request`, `join_headers`,
//! `get_header`, the piecemeal `unquote` of the path), so that routing and header lookups see
//! exactly the strings supervisor's handlers see.

/// One parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequestHead {
    /// The request line as sent; the access log quotes it.
    pub line: String,
    /// The method, case as sent (handlers compare it case-sensitively: `post` is not `POST`).
    pub command: String,
    /// The URI with its path percent-decoded (the query left alone), which is what every
    /// handler's `match` tests.
    pub uri: String,
    /// The `x.y` of `HTTP/x.y`, or `None` when the request line has no version.
    pub version: Option<String>,
    /// Header lines with continuation lines joined.
    pub headers: Vec<String>,
}

/// Why a head gets no answer at all (medusa closes the connection in both cases).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeadError {
    /// Nothing but blank lines.
    Blank,
    /// Not UTF-8, a request line medusa cannot crack, or a continuation line with nothing to
    /// continue: medusa raises while handling these and closes the channel without replying.
    Malformed,
}

/// Parse the bytes before the blank line that ends a head.
pub(crate) fn parse_head(raw: &[u8]) -> Result<RequestHead, HeadError> {
    let text = std::str::from_utf8(raw).map_err(|_| HeadError::Malformed)?;
    let mut lines = text.split("\r\n").skip_while(|l| l.is_empty());
    let line = lines.next().ok_or(HeadError::Blank)?;
    let (command, raw_uri, version) = crack_request(line).ok_or(HeadError::Malformed)?;
    let mut headers: Vec<String> = Vec::with_capacity(8);
    for l in lines {
        if l.starts_with([' ', '\t']) {
            let last = headers.last_mut().ok_or(HeadError::Malformed)?;
            last.push_str(&l[1..]);
        } else {
            headers.push(l.to_string());
        }
    }
    Ok(RequestHead {
        line: line.to_string(),
        command: command.to_string(),
        uri: unquote_uri_path(raw_uri),
        version: version.map(str::to_string),
        headers,
    })
}

/// medusa's `REQUEST` regex, `([^ ]+) ([^ ]+)(( HTTP/([0-9.]+))$|$)`, matched in full.
fn crack_request(line: &str) -> Option<(&str, &str, Option<&str>)> {
    let parts: Vec<&str> = line.split(' ').collect();
    match parts.as_slice() {
        [command, uri] if !command.is_empty() && !uri.is_empty() => Some((command, uri, None)),
        [command, uri, proto] if !command.is_empty() && !uri.is_empty() => {
            let version = proto.strip_prefix("HTTP/")?;
            let ok =
                !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit() || b == b'.');
            ok.then_some((*command, *uri, Some(version)))
        }
        _ => None,
    }
}

/// medusa unquotes the path part (up to the last `?`) when it holds a `%`, and drops an empty
/// query together with its `?`.
fn unquote_uri_path(uri: &str) -> String {
    let (path, query) = match uri.rfind('?') {
        Some(i) => (&uri[..i], Some(&uri[i + 1..])),
        None => (uri, None),
    };
    if !path.contains('%') {
        return uri.to_string();
    }
    match query {
        Some(q) if !q.is_empty() => format!("{}?{q}", unquote(path)),
        _ => unquote(path),
    }
}

/// Python's `urllib.parse.unquote`: `%XX` runs become bytes decoded as UTF-8 with U+FFFD for
/// invalid sequences; malformed escapes stay as they are.
pub(crate) fn unquote(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut pending: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        if let Some(byte) = escaped {
            pending.push(byte);
            i += 3;
            continue;
        }
        if !pending.is_empty() {
            out.push_str(&String::from_utf8_lossy(&pending));
            pending.clear();
        }
        // Copy one whole character: `s` is UTF-8, so the next boundary is where it ends.
        let end = (i + 1..=bytes.len()).find(|&j| s.is_char_boundary(j)).unwrap_or(bytes.len());
        out.push_str(&s[i..end]);
        i = end;
    }
    if !pending.is_empty() {
        out.push_str(&String::from_utf8_lossy(&pending));
    }
    out
}

impl RequestHead {
    /// medusa's `http_request.get_header`: the rest of the first line starting with
    /// `‹name›: ` (any case, exactly one space).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find_map(|line| strip_prefix_ignore_case(line, name, ": "))
    }

    /// The `Connection` value lowercased, or `""`: medusa's `get_header(CONNECTION, …)`, a
    /// full-line match of `Connection: (.*)`, where `.` stops at a newline.
    pub fn connection(&self) -> String {
        self.headers
            .iter()
            .filter(|line| !line.contains('\n'))
            .find_map(|line| strip_prefix_ignore_case(line, "connection", ": "))
            .map(str::to_lowercase)
            .unwrap_or_default()
    }

    /// The first `Authorization: ‹scheme› ‹credentials›` line as (scheme, credentials): the
    /// auth handler's `Authorization: ([^ ]+) (.*)` matched in full.
    pub fn authorization(&self) -> Option<(&str, &str)> {
        self.headers.iter().filter(|line| !line.contains('\n')).find_map(|line| {
            let rest = strip_prefix_ignore_case(line, "authorization", ": ")?;
            let (scheme, credentials) = rest.split_once(' ')?;
            (!scheme.is_empty()).then_some((scheme, credentials))
        })
    }

    /// The path part of the URI: medusa's `split_uri()[0]`, everything before `;`, `?` or `#`.
    pub fn path(&self) -> &str {
        let end = self.uri.find([';', '?', '#']).unwrap_or(self.uri.len());
        &self.uri[..end]
    }
}

fn strip_prefix_ignore_case<'a>(line: &'a str, name: &str, sep: &str) -> Option<&'a str> {
    // Compared as bytes: the line may hold multi-byte characters anywhere. When the ASCII
    // separator matches, the byte after it starts a character, so slicing there is sound.
    let (bytes, n) = (line.as_bytes(), name.len() + sep.len());
    let matches = bytes.len() >= n
        && bytes[..name.len()].eq_ignore_ascii_case(name.as_bytes())
        && &bytes[name.len()..n] == sep.as_bytes();
    matches.then(|| line.get(n..)).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(raw: &str) -> RequestHead {
        parse_head(raw.as_bytes()).unwrap()
    }

    #[test]
    fn request_lines_are_cracked_like_medusa() {
        let h = head("GET /foo HTTP/1.1\r\nHost: x");
        assert_eq!((h.command.as_str(), h.uri.as_str()), ("GET", "/foo"));
        assert_eq!(h.version.as_deref(), Some("1.1"));
        assert_eq!(head("GET /foo").version, None);
        assert_eq!(head("\r\n\r\nGET / HTTP/1.0").line, "GET / HTTP/1.0");
        assert_eq!(head("GET / HTTP/1.1.1").version.as_deref(), Some("1.1.1"));
        for bad in
            ["garbage", "GET  /", "GET / HTTP/", "GET / http/1.1", "GET / HTTP/1.1 x", "A B C"]
        {
            assert_eq!(parse_head(bad.as_bytes()), Err(HeadError::Malformed), "{bad}");
        }
        assert_eq!(parse_head(b"\r\n"), Err(HeadError::Blank));
        assert_eq!(parse_head(b"GET / HTTP/1.1\r\n cont"), Err(HeadError::Malformed));
        assert_eq!(parse_head(b"GET /\xff HTTP/1.1"), Err(HeadError::Malformed));
    }

    #[test]
    fn continuation_lines_join_without_their_first_character() {
        let h = head("GET / HTTP/1.1\r\nX-A: one\r\n  two\r\n\tthree");
        assert_eq!(h.headers, vec!["X-A: one twothree"]);
    }

    #[test]
    fn the_path_is_unquoted_but_not_the_query() {
        assert_eq!(head("GET /logtail/c%61t?x=%41 HTTP/1.1").uri, "/logtail/cat?x=%41");
        assert_eq!(head("GET /a%41? HTTP/1.1").uri, "/aA");
        assert_eq!(head("GET /a?b%41 HTTP/1.1").uri, "/a?b%41");
        assert_eq!(head("GET /a%3Fb?c HTTP/1.1").uri, "/a?b?c");
        assert_eq!(head("GET /%52PC2 HTTP/1.1").uri, "/RPC2");
    }

    #[test]
    fn unquote_matches_python() {
        assert_eq!(unquote("a%2"), "a%2");
        assert_eq!(unquote("%zz%41"), "%zzA");
        assert_eq!(unquote("%C3%A9t%C3%A9"), "été");
        assert_eq!(unquote("%C3"), "\u{fffd}");
        assert_eq!(unquote("%C3é"), "\u{fffd}é");
        assert_eq!(unquote("%ff%fe"), "\u{fffd}\u{fffd}");
        assert_eq!(unquote("é%41"), "éA");
        assert_eq!(unquote("%2525"), "%25");
    }

    #[test]
    fn header_lookups_follow_medusas_patterns() {
        let h = head(
            "POST / HTTP/1.1\r\ncontent-LENGTH: 12 \r\nCONNECTION: Keep-Alive\r\n\
             Authorization: Basic  abc",
        );
        assert_eq!(h.header("Content-Length"), Some("12 "));
        assert_eq!(h.connection(), "keep-alive");
        assert_eq!(h.authorization(), Some(("Basic", " abc")));
        let h = head(
            "POST / HTTP/1.1\r\ncontent-length:12\r\nConnection:close\r\nAuthorization: Basic",
        );
        assert_eq!(h.header("content-length"), None);
        assert_eq!(h.connection(), "");
        assert_eq!(h.authorization(), None);
        let h = head("GET / HTTP/1.1\r\nAuthorization:  Basic x\r\nAuthorization: Bearer t");
        assert_eq!(h.authorization(), Some(("Bearer", "t")));
        // Multi-byte characters where a name is expected are just other headers.
        let h = head("GET / HTTP/1.1\r\nconnectio\u{e9}: x\r\n\u{e9}\r\nContent-Lengt\u{e9}: 1");
        assert_eq!((h.connection(), h.header("content-length")), (String::new(), None));
    }

    #[test]
    fn arbitrary_heads_never_panic() {
        let pieces = [
            "GET",
            "POST",
            " ",
            "/",
            "HTTP/1.1",
            "\r\n",
            "\n",
            ": ",
            ":",
            "%",
            "%4",
            "%e9",
            "%C3",
            "é",
            "€",
            "𝄞",
            "?",
            ";",
            "#",
            "\t",
            "Connection",
            "Authorization",
            "content-length",
            "Basic",
            "=",
            "a",
            "\u{fffd}",
        ];
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            let mut raw = String::new();
            for _ in 0..(seed % 24) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                raw.push_str(pieces[(seed % pieces.len() as u64) as usize]);
            }
            seed = seed.wrapping_add(1);
            if let Ok(h) = parse_head(raw.as_bytes()) {
                let _ = (h.header("content-length"), h.connection(), h.authorization(), h.path());
                let _ = unquote(h.path());
            }
            let _ = unquote(&raw);
        }
    }

    #[test]
    fn path_stops_at_params_query_or_fragment() {
        assert_eq!(head("GET /a;p?q#f HTTP/1.1").path(), "/a");
        assert_eq!(head("GET /a#f HTTP/1.1").path(), "/a");
        assert_eq!(head("GET /a/b HTTP/1.1").path(), "/a/b");
    }
}
