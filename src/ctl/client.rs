//! The XML-RPC client supervisorctl talks to supervisord with: one blocking HTTP/1.1 POST to
//! `/RPC2` per call, over a UNIX socket or TCP.
//!
//! Hand-written rather than on hyper: supervisorctl is a blocking one-shot CLI, the tree has no
//! HTTP client crate (the daemon's server is hand-written too), and a small client keeps the
//! binary small. One connection per call is what matters here, not throughput.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;

use base64::Engine;

use crate::rpc::xmlrpc::{self, Response, Value};

/// Why a call produced no value.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// The daemon answered with an XML-RPC fault.
    #[error("<Fault {code}: {}>", crate::python::repr(text))]
    Fault { code: i64, text: String },
    /// Connecting or talking failed; `errno` is what Python's `socket.error.args[0]` would be.
    #[error("{message}")]
    Io { errno: Option<i32>, message: String },
    /// A non-200 HTTP status (`xmlrpc.client.ProtocolError`).
    #[error("<ProtocolError for 127.0.0.1/RPC2: {status} {reason}>")]
    Http { status: u16, reason: String },
    /// The reply could not be read as HTTP or XML-RPC.
    #[error("{0}")]
    Protocol(String),
    /// A confirmation prompt met the end of input (Python's `EOFError` from `input()`); it
    /// ends the command the same way an unhandled RPC error does.
    #[error("EOF when reading a line")]
    Eof,
    /// Ctrl-C at a prompt inside a command (Python's `KeyboardInterrupt`).
    #[error("")]
    Interrupted,
}

impl RpcError {
    pub(crate) fn io(e: &std::io::Error) -> RpcError {
        RpcError::Io { errno: e.raw_os_error(), message: e.to_string() }
    }
}

/// The calls the command layer makes; a fake implements it in unit tests.
pub trait Rpc {
    fn call(&mut self, method: &str, params: &[Value]) -> Result<Value, RpcError>;

    /// Starts `GET path` (`/logtail/...`, `/mainlogtail`) for the caller to pump as the body
    /// arrives. `Err` is the line Python's `http_client` prints to stderr (without the URL).
    /// Fakes have no server to stream from.
    fn stream(&mut self, _path: &str) -> Result<LogStream, String> {
        Err("Cannot connect, error: no server".to_string())
    }

    /// The shell's answer to `Server requires authentication`.
    fn set_credentials(&mut self, _username: &str, _password: &str) {}

    /// `open url`: talk to another daemon from now on.
    fn set_serverurl(&mut self, _url: &str) {}
}

/// The real client: where the daemon listens and the credentials to send.
pub struct HttpRpc {
    pub serverurl: String,
    pub username: Option<String>,
    pub password: Option<String>,
}

enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Unix(s) => s.read(buf),
            Stream::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Unix(s) => s.write(buf),
            Stream::Tcp(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl AsFd for Stream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Stream::Unix(s) => s.as_fd(),
            Stream::Tcp(s) => s.as_fd(),
        }
    }
}

/// `Authorization: Basic ...` with its line end.
fn basic_auth(user: &str, pass: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    format!("Authorization: Basic {token}\r\n")
}

impl HttpRpc {
    fn connect(&self) -> Result<Stream, RpcError> {
        if let Some(path) = self.serverurl.strip_prefix("unix://") {
            return UnixStream::connect(path).map(Stream::Unix).map_err(|e| RpcError::io(&e));
        }
        let rest = self.serverurl.strip_prefix("http://").unwrap_or(&self.serverurl);
        let hostport = rest.split('/').next().unwrap_or(rest);
        // Python's http.client defaults the port to 80 when the URL has none.
        let addr =
            if hostport.contains(':') { hostport.to_string() } else { format!("{hostport}:80") };
        TcpStream::connect(addr).map(Stream::Tcp).map_err(|e| RpcError::io(&e))
    }

    fn request(&self, body: &str) -> Vec<u8> {
        let mut head = format!(
            "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: identity\r\n\
             User-Agent: supervisor-rs\r\nContent-Type: text/xml\r\nConnection: close\r\n\
             Content-Length: {}\r\n",
            body.len()
        );
        if let Some(user) = &self.username {
            head.push_str(&basic_auth(user, self.password.as_deref().unwrap_or("")));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body.as_bytes());
        bytes
    }
}

impl Rpc for HttpRpc {
    fn call(&mut self, method: &str, params: &[Value]) -> Result<Value, RpcError> {
        let request = self.request(&xmlrpc::method_call(method, params));
        let mut stream = self.connect()?;
        stream.write_all(&request).map_err(|e| RpcError::io(&e))?;
        let (status, reason, body) = read_response(stream)?;
        if status != 200 {
            return Err(RpcError::Http { status, reason });
        }
        match xmlrpc::parse_method_response(&body) {
            Ok(Response::Value(v)) => Ok(v),
            Ok(Response::Fault { code, text }) => Err(RpcError::Fault { code, text }),
            Err(e) => Err(RpcError::Protocol(e.to_string())),
        }
    }

    fn set_serverurl(&mut self, url: &str) {
        self.serverurl = url.to_string();
    }

    fn stream(&mut self, path: &str) -> Result<LogStream, String> {
        let mut stream = self.connect().map_err(|e| format!("Cannot connect, error: {e}"))?;
        let host = self
            .serverurl
            .strip_prefix("http://")
            .map_or("", |r| r.split('/').next().unwrap_or(""));
        let mut head = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: chunked\r\nAccept: */*\r\n\
             User-agent: Supervisor HTTP Client\r\n"
        );
        // Python's http_client sends credentials only when a password is set.
        if let Some(pass) = self.password.as_deref().filter(|p| !p.is_empty()) {
            head.push_str(&basic_auth(self.username.as_deref().unwrap_or(""), pass));
        }
        head.push_str("\r\n\r\n");
        stream.write_all(head.as_bytes()).map_err(cannot_connect)?;
        let body = ResponseParser { only_ok: true, ..ResponseParser::default() };
        Ok(LogStream { stream, body, carry: Vec::new() })
    }

    fn set_credentials(&mut self, username: &str, password: &str) {
        self.username = Some(username.to_string());
        self.password = Some(password.to_string());
    }
}

fn cannot_connect(e: std::io::Error) -> String {
    format!("Cannot connect, error: {e}")
}

/// A streaming `GET` in flight: the socket and where its response parser is.
pub struct LogStream {
    stream: Stream,
    body: ResponseParser,
    /// The start of a UTF-8 character cut by a read, held for the next piece. Python shows a
    /// piece that ends mid-character as `Undecodable: b'...'`; holding it back shows the text.
    carry: Vec<u8>,
}

impl LogStream {
    /// What to poll for readability.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.stream.as_fd()
    }

    /// One read(2): body bytes go to `sink`. `Ok(false)` once the response is over.
    pub fn pump(&mut self, sink: &mut dyn FnMut(&[u8])) -> Result<bool, String> {
        let mut buf = [0u8; 16384];
        let read = self.stream.read(&mut buf);
        let carry = &mut self.carry;
        let mut whole = |piece: &[u8]| {
            let mut data = std::mem::take(carry);
            data.extend_from_slice(piece);
            let cut = incomplete_utf8_tail(&data);
            let (text, rest) = data.split_at(data.len() - cut);
            if !text.is_empty() {
                sink(text);
            }
            carry.extend_from_slice(rest);
        };
        match read {
            Ok(0) => {
                if !self.carry.is_empty() {
                    sink(&std::mem::take(&mut self.carry));
                }
                Ok(false)
            }
            Ok(n) => self.body.feed(&buf[..n], &mut whole),
            // A signal: the caller polls again and sees why.
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Ok(true),
            Err(e) => Err(cannot_connect(e)),
        }
    }
}

/// How many bytes at the end of `data` begin a UTF-8 character that is not complete yet (0 when
/// the text is whole, or broken before its end anyway).
fn incomplete_utf8_tail(data: &[u8]) -> usize {
    match std::str::from_utf8(data) {
        Err(e) if e.error_len().is_none() => data.len() - e.valid_up_to(),
        _ => 0,
    }
}

/// An HTTP response parsed as it arrives, for both the XML-RPC calls and the log streams
/// (Python's asyncore `http_client` for the latter): the status line, the headers, then the
/// body by chunks, by `Content-Length`, or up to the close.
#[derive(Default)]
struct ResponseParser {
    /// Log streams: a status other than 200 is an error, and its body is not shown.
    only_ok: bool,
    /// The status line once read.
    status_line: Option<String>,
    pending: Vec<u8>,
    state: BodyState,
}

#[derive(Default, Debug, PartialEq)]
enum BodyState {
    #[default]
    Status,
    Headers {
        chunked: bool,
        length: Option<usize>,
    },
    ChunkSize,
    ChunkData(usize),
    ChunkEnd,
    /// `Content-Length` bytes still to come.
    Length(usize),
    /// Up to the close.
    Plain,
    Done,
}

impl ResponseParser {
    /// The status code and reason, once the status line is in; `None` for a line without a
    /// numeric status.
    fn status(&self) -> Option<(u16, String)> {
        let mut parts = self.status_line.as_deref()?.splitn(3, ' ');
        let _version = parts.next();
        let status = parts.next()?.parse::<u16>().ok()?;
        Some((status, parts.next().unwrap_or("").to_string()))
    }

    /// Takes one line (without CR LF) from the pending bytes.
    fn line(&mut self) -> Option<String> {
        let i = self.pending.iter().position(|&b| b == b'\n')?;
        let line: Vec<u8> = self.pending.drain(..=i).collect();
        Some(String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']).to_string())
    }

    /// Body bytes in `data` go to `sink`; `Ok(false)` once the response is complete.
    fn feed(&mut self, data: &[u8], sink: &mut dyn FnMut(&[u8])) -> Result<bool, String> {
        if self.state == BodyState::Plain {
            sink(data);
            return Ok(true);
        }
        self.pending.extend_from_slice(data);
        loop {
            match self.state {
                BodyState::Status => {
                    let Some(line) = self.line() else { return Ok(true) };
                    self.status_line = Some(line);
                    let status = self.status().map_or(0, |(status, _)| status);
                    if self.only_ok && status != 200 {
                        return Err(format!("Cannot read, status code {status}"));
                    }
                    self.state = BodyState::Headers { chunked: false, length: None };
                }
                BodyState::Headers { chunked, length } => {
                    let Some(line) = self.line() else { return Ok(true) };
                    if line.is_empty() {
                        self.state = match (chunked, length) {
                            (true, _) => BodyState::ChunkSize,
                            (false, Some(0)) => BodyState::Done,
                            (false, Some(n)) => BodyState::Length(n),
                            (false, None) => BodyState::Plain,
                        };
                    } else if let Some((name, value)) = line.split_once(':') {
                        let value = value.trim();
                        if name.eq_ignore_ascii_case("transfer-encoding")
                            && value.eq_ignore_ascii_case("chunked")
                        {
                            self.state = BodyState::Headers { chunked: true, length };
                        } else if name.eq_ignore_ascii_case("content-length") {
                            let length = value.parse::<usize>().ok();
                            self.state = BodyState::Headers { chunked, length };
                        }
                    }
                }
                BodyState::ChunkSize => {
                    let Some(line) = self.line() else { return Ok(true) };
                    let size = line.trim().split(';').next().unwrap_or("");
                    let size = usize::from_str_radix(size, 16)
                        .map_err(|_| format!("bad chunk size {size:?}"))?;
                    self.state =
                        if size == 0 { BodyState::Done } else { BodyState::ChunkData(size) };
                }
                BodyState::ChunkData(left) | BodyState::Length(left) => {
                    if self.pending.is_empty() {
                        return Ok(true);
                    }
                    let n = left.min(self.pending.len());
                    let piece: Vec<u8> = self.pending.drain(..n).collect();
                    sink(&piece);
                    let chunked = matches!(self.state, BodyState::ChunkData(_));
                    self.state = match (chunked, left - n) {
                        (true, 0) => BodyState::ChunkEnd,
                        (true, rest) => BodyState::ChunkData(rest),
                        (false, 0) => BodyState::Done,
                        (false, rest) => BodyState::Length(rest),
                    };
                }
                BodyState::ChunkEnd => {
                    if self.line().is_none() {
                        return Ok(true);
                    }
                    self.state = BodyState::ChunkSize;
                }
                BodyState::Plain => {
                    let rest = std::mem::take(&mut self.pending);
                    if !rest.is_empty() {
                        sink(&rest);
                    }
                    return Ok(true);
                }
                BodyState::Done => return Ok(false),
            }
        }
    }
}

/// Reads one whole HTTP response: status, reason and body.
pub fn read_response(mut r: impl Read) -> Result<(u16, String, Vec<u8>), RpcError> {
    let mut parser = ResponseParser::default();
    let mut body = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        let n = match r.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(RpcError::io(&e)),
        };
        if n == 0 {
            break;
        }
        let more = parser.feed(&buf[..n], &mut |d| body.extend_from_slice(d));
        if !more.map_err(RpcError::Protocol)? {
            break;
        }
    }
    let line = parser.status_line.clone().unwrap_or_default();
    let (status, reason) =
        parser.status().ok_or_else(|| RpcError::Protocol(format!("bad status line {line:?}")))?;
    Ok((status, reason, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_content_length_and_chunked_bodies() {
        let plain = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef";
        let (status, reason, body) = read_response(&plain[..]).unwrap();
        assert_eq!((status, reason.as_str(), body.as_slice()), (200, "OK", &b"abc"[..]));
        let chunked =
            b"HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n";
        let (status, reason, body) = read_response(&chunked[..]).unwrap();
        assert_eq!((status, reason.as_str(), body.as_slice()), (401, "Unauthorized", &b"abc"[..]));
    }

    #[test]
    fn basic_auth_header_only_with_username() {
        let mut rpc =
            HttpRpc { serverurl: "http://x".into(), username: None, password: Some("p".into()) };
        assert!(!String::from_utf8_lossy(&rpc.request("")).contains("Authorization"));
        rpc.username = Some("user".into());
        assert!(
            String::from_utf8_lossy(&rpc.request("")).contains("Authorization: Basic dXNlcjpw\r\n")
        );
    }

    fn body_of(response: &[u8], split: usize) -> (Vec<u8>, Result<bool, String>) {
        let mut parser = ResponseParser { only_ok: true, ..ResponseParser::default() };
        let mut body = Vec::new();
        let first = parser.feed(&response[..split], &mut |d| body.extend_from_slice(d));
        let second = first.and_then(|open| {
            if open {
                parser.feed(&response[split..], &mut |d| body.extend_from_slice(d))
            } else {
                Ok(false)
            }
        });
        (body, second)
    }

    #[test]
    fn a_streamed_body_comes_out_whole_however_it_is_split() {
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n\
                        3;x=y\r\n ab\r\n0\r\n\r\n";
        let plain = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello ab";
        for split in 0..=chunked.len() {
            let (body, end) = body_of(chunked, split);
            assert_eq!((body.as_slice(), end), (&b"hello ab"[..], Ok(false)), "split {split}");
        }
        for split in 0..=plain.len() {
            let (body, end) = body_of(plain, split);
            assert_eq!((body.as_slice(), end), (&b"hello ab"[..], Ok(true)), "split {split}");
        }
        let (body, end) = body_of(b"HTTP/1.1 404 Not Found\r\n\r\n", 3);
        assert_eq!((body.len(), end), (0, Err("Cannot read, status code 404".to_string())));
    }

    #[test]
    fn a_character_cut_by_a_read_waits_for_its_end() {
        let (ours, mut theirs) = UnixStream::pair().unwrap();
        let mut stream = LogStream {
            stream: Stream::Unix(ours),
            body: ResponseParser { only_ok: true, ..ResponseParser::default() },
            carry: Vec::new(),
        };
        let mut got: Vec<Vec<u8>> = Vec::new();
        theirs.write_all(b"HTTP/1.0 200 OK\r\n\r\ncaf\xc3").unwrap();
        assert_eq!(stream.pump(&mut |d| got.push(d.to_vec())), Ok(true));
        theirs.write_all(b"\xa9!").unwrap();
        assert_eq!(stream.pump(&mut |d| got.push(d.to_vec())), Ok(true));
        assert_eq!(got, [b"caf".to_vec(), "\u{e9}!".as_bytes().to_vec()]);
        // A cut left at the end of the stream is shown as it is.
        theirs.write_all(b"\xe2\x82").unwrap();
        drop(theirs);
        assert_eq!(stream.pump(&mut |d| got.push(d.to_vec())), Ok(true));
        assert_eq!(stream.pump(&mut |d| got.push(d.to_vec())), Ok(false));
        assert_eq!(got.last().unwrap(), b"\xe2\x82");
    }
}
