//! Reply heads as medusa writes them: the ordered `reply_headers` dict (`Server`, `Date`, then
//! whatever handlers set, in the order they set it), the status line with the request's version,
//! the error page, HTTP dates, and `http_request.done()`'s keep-alive and chunking rules.

use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// medusa's `VERSION_STRING`, taken from its RCS id.
pub(crate) const SERVER: &str = "Medusa/1.12";

/// A reply head under construction. Setting a name that is already present replaces its value
/// in place, as assigning to a Python dict key does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    pub code: u16,
    headers: Vec<(String, String)>,
}

impl Reply {
    pub fn new(code: u16) -> Reply {
        // Room for what a reply usually adds (type, length, connection) without regrowing.
        let mut headers = Vec::with_capacity(6);
        headers.push(("Server".to_string(), SERVER.to_string()));
        headers.push(("Date".to_string(), current_http_date()));
        Reply { code, headers }
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self.headers.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.headers.push((name.to_string(), value)),
        }
    }

    /// Add another header line even if the name is present (for web pages that set, say, two
    /// `Set-Cookie` lines).
    pub fn append(&mut self, name: &str, value: impl Into<String>) {
        self.headers.push((name.to_string(), value.into()));
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The status line and header lines, ending with the blank line.
    pub fn head_bytes(&self, version: Option<&str>) -> Vec<u8> {
        let size: usize = self.headers.iter().map(|(n, v)| n.len() + v.len() + 4).sum();
        let mut out = String::with_capacity(64 + size);
        let _ = write!(
            out,
            "HTTP/{} {} {}\r\n",
            version.unwrap_or("None"),
            self.code,
            reason(self.code)
        );
        for (name, value) in &self.headers {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(value);
            out.push_str("\r\n");
        }
        out.push_str("\r\n");
        out.into_bytes()
    }

    /// Decide how the body is delimited and whether the connection stays open, adding the
    /// headers medusa adds for that decision (`http_request.done`). medusa builds the head
    /// before it records `Connection: close`, so a closing 1.x reply never says so.
    pub fn finish(&mut self, version: Option<&str>, connection: &str) -> Framing {
        let has_length = self.get("Content-Length").is_some();
        let mut framing = Framing { close: false, chunked: false };
        match version {
            Some("1.0") => {
                if connection == "keep-alive" && has_length {
                    self.set("Connection", "Keep-Alive");
                } else {
                    framing.close = true;
                }
            }
            Some("1.1") => {
                if connection == "close" {
                    framing.close = true;
                } else if !has_length {
                    match self.get("Transfer-Encoding") {
                        Some("chunked") => framing.chunked = true,
                        Some(_) => framing.close = true,
                        None => {
                            self.set("Transfer-Encoding", "chunked");
                            framing.chunked = true;
                        }
                    }
                }
            }
            None => framing.close = true,
            // Other versions keep the connection as medusa does, but a body without a length
            // can then only end with the connection.
            Some(_) => framing.close = !has_length,
        }
        framing
    }
}

/// How a reply's body is delimited and what happens to the connection after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Framing {
    pub close: bool,
    pub chunked: bool,
}

/// medusa's `http_request.responses`, then the standard phrase for codes it lacks.
pub(crate) fn reason(code: u16) -> &'static str {
    match code {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Time-out",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Large",
        415 => "Unsupported Media Type",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Time-out",
        505 => "HTTP Version not supported",
        other => http::StatusCode::from_u16(other)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Unknown"),
    }
}

/// medusa's `DEFAULT_ERROR_MESSAGE`: lines joined by CRLF, with a final CRLF.
pub fn error_page(code: u16) -> String {
    [
        "<head>".to_string(),
        "<title>Error response</title>".to_string(),
        "</head>".to_string(),
        "<body>".to_string(),
        "<h1>Error response</h1>".to_string(),
        format!("<p>Error code {code}."),
        format!("<p>Message: {}.", reason(code)),
        "</body>".to_string(),
        String::new(),
    ]
    .join("\r\n")
}

/// An error reply (`http_request.error`): `Content-Length` then `Content-Type: text/html`,
/// after any headers already set.
pub(crate) fn error_reply(mut reply: Reply) -> (Reply, Vec<u8>) {
    let body = error_page(reply.code).into_bytes();
    reply.set("Content-Length", body.len().to_string());
    reply.set("Content-Type", "text/html");
    (reply, body)
}

/// `http_date.build_http_date`: RFC 1123 in GMT.
pub fn http_date(t: Timestamp) -> String {
    t.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// [`http_date`] of now. Every reply carries one and it only changes once a second, so the
/// text is kept per thread with the second it is for.
fn current_http_date() -> String {
    thread_local! {
        static LAST: std::cell::RefCell<(i64, String)> =
            const { std::cell::RefCell::new((i64::MIN, String::new())) };
    }
    let now = Timestamp::now();
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != now.as_second() {
            *last = (now.as_second(), http_date(now));
        }
        last.1.clone()
    })
}

/// The date in medusa's access log: GMT wall time followed by the local *standard* offset
/// (`log_date_string` pairs `gmtime()` with `time.timezone`).
pub(crate) fn log_date(t: Timestamp) -> String {
    let offset = standard_offset_seconds(t);
    let sign = if offset < 0 { '-' } else { '+' };
    let abs = offset.unsigned_abs();
    format!("{} {sign}{:02}{:02}", t.strftime("%d/%b/%Y:%H:%M:%S"), abs / 3600, (abs % 3600) / 60)
}

/// `time.timezone` negated: the zone's offset without daylight saving. Daylight saving always
/// moves clocks forward, so the standard offset is the smaller of January's and July's.
fn standard_offset_seconds(t: Timestamp) -> i32 {
    let tz = TimeZone::system();
    let year = t.to_zoned_datetime(tz.clone()).year();
    let at = |month: i8| {
        jiff::civil::date(year, month, 1)
            .to_zoned_datetime(tz.clone())
            .map(|z| z.offset().seconds())
            .unwrap_or_else(|_| tz.to_offset(t).seconds())
    };
    at(1).min(at(7))
}

/// Title-case an HTTP header name (`content-type` → `Content-Type`) for headers that come from
/// hyper's lowercased maps, with the spellings that are not plain title case.
pub(crate) fn header_case(name: &str) -> String {
    match name {
        "www-authenticate" => return "WWW-Authenticate".to_string(),
        "etag" => return "ETag".to_string(),
        _ => {}
    }
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        out.push(if upper { c.to_ascii_uppercase() } else { c });
        upper = c == '-';
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_page_is_medusas() {
        let page = error_page(404);
        assert_eq!(page.len(), 134);
        assert!(page.starts_with("<head>\r\n<title>Error response</title>\r\n"));
        assert!(page.ends_with("<p>Error code 404.\r\n<p>Message: Not Found.\r\n</body>\r\n"));
        assert_eq!(error_page(401).len(), 137);
        assert_eq!(error_page(500).len(), 146);
    }

    #[test]
    fn reply_keeps_dict_order_and_replaces_in_place() {
        let mut r = Reply::new(401);
        r.set("Connection", "close");
        r.set("WWW-Authenticate", "Basic realm=\"default\"");
        let (mut r, _) = error_reply(r);
        r.set("Connection", "Keep-Alive");
        let head = String::from_utf8(r.head_bytes(Some("1.0"))).unwrap();
        let names: Vec<&str> =
            head.lines().skip(1).filter_map(|l| l.split_once(':')).map(|(n, _)| n).collect();
        assert_eq!(
            names,
            ["Server", "Date", "Connection", "WWW-Authenticate", "Content-Length", "Content-Type"]
        );
        assert!(head.starts_with("HTTP/1.0 401 Unauthorized\r\nServer: Medusa/1.12\r\nDate: "));
        assert!(head.contains("Connection: Keep-Alive\r\n"));
        assert!(Reply::new(404).head_bytes(None).starts_with(b"HTTP/None 404 Not Found\r\n"));
    }

    #[test]
    fn finish_follows_medusas_done() {
        let with_length = || {
            let mut r = Reply::new(200);
            r.set("Content-Length", "2");
            r
        };
        let f = |mut r: Reply, v: Option<&str>, c: &str| (r.finish(v, c), r);

        let (fr, r) = f(with_length(), Some("1.1"), "");
        assert_eq!(fr, Framing { close: false, chunked: false });
        assert_eq!(r.get("Connection"), None);
        assert!(f(with_length(), Some("1.1"), "close").0.close);
        let (fr, r) = f(with_length(), Some("1.0"), "keep-alive");
        assert!(!fr.close);
        assert_eq!(r.get("Connection"), Some("Keep-Alive"));
        let (fr, r) = f(with_length(), Some("1.0"), "");
        assert!(fr.close);
        assert_eq!(r.get("Connection"), None);
        assert!(f(with_length(), None, "keep-alive").0.close);
        assert!(!f(with_length(), Some("1.2"), "").0.close);

        let (fr, r) = f(Reply::new(200), Some("1.1"), "");
        assert_eq!(fr, Framing { close: false, chunked: true });
        assert_eq!(r.get("Transfer-Encoding"), Some("chunked"));
        let (fr, r) = f(Reply::new(200), Some("1.1"), "close");
        assert_eq!(fr, Framing { close: true, chunked: false });
        assert_eq!(r.get("Transfer-Encoding"), None);
        assert!(f(Reply::new(200), Some("1.0"), "keep-alive").0.close);
        assert!(f(Reply::new(200), Some("1.2"), "").0.close);
    }

    #[test]
    fn dates() {
        let t: Timestamp = "2026-11-03T08:04:05Z".parse().unwrap();
        assert_eq!(http_date(t), "Tue, 03 Nov 2026 08:04:05 GMT");
        assert!(log_date(t).starts_with("03/Nov/2026:08:04:05 "));
        let offset = &log_date(t)[21..];
        assert!(offset.len() == 5 && (offset.starts_with('+') || offset.starts_with('-')));
    }

    #[test]
    fn header_names_are_title_cased() {
        assert_eq!(header_case("content-type"), "Content-Type");
        assert_eq!(header_case("x-accel-buffering"), "X-Accel-Buffering");
        assert_eq!(header_case("www-authenticate"), "WWW-Authenticate");
        assert_eq!(header_case("location"), "Location");
    }
}
