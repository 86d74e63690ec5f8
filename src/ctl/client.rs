//! The XML-RPC client supervisorctl talks to supervisord with: one blocking HTTP/1.1 POST to
//! `/RPC2` per call, over a UNIX socket or TCP.
//!
//! Hand-written rather than on hyper: supervisorctl is a blocking one-shot CLI, the tree has no
//! HTTP client crate (the daemon's server is hand-written too), and a small client keeps the
//! binary small. One connection per call is what matters here, not throughput.

use std::io::{BufRead, BufReader, Read, Write};
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
            let pass = self.password.as_deref().unwrap_or("");
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
            head.push_str(&format!("Authorization: Basic {token}\r\n"));
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
        let (status, reason, body) = match self.connect()? {
            Stream::Unix(mut s) => {
                s.write_all(&request).map_err(|e| RpcError::io(&e))?;
                read_response(BufReader::new(s))?
            }
            Stream::Tcp(mut s) => {
                s.write_all(&request).map_err(|e| RpcError::io(&e))?;
                read_response(BufReader::new(s))?
            }
        };
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
            let user = self.username.as_deref().unwrap_or("");
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
            head.push_str(&format!("Authorization: Basic {token}\r\n"));
        }
        head.push_str("\r\n\r\n");
        match &mut stream {
            Stream::Unix(s) => s.write_all(head.as_bytes()),
            Stream::Tcp(s) => s.write_all(head.as_bytes()),
        }
        .map_err(cannot_connect)?;
        Ok(LogStream { stream, body: StreamBody::default(), carry: Vec::new() })
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
    body: StreamBody,
    /// The start of a UTF-8 character cut by a read, held for the next piece. Python shows a
    /// piece that ends mid-character as `Undecodable: b'...'`; holding it back shows the text.
    carry: Vec<u8>,
}

impl LogStream {
    /// What to poll for readability.
    pub fn fd(&self) -> BorrowedFd<'_> {
        match &self.stream {
            Stream::Unix(s) => s.as_fd(),
            Stream::Tcp(s) => s.as_fd(),
        }
    }

    /// One read(2): body bytes go to `sink`. `Ok(false)` once the response is over.
    pub fn pump(&mut self, sink: &mut dyn FnMut(&[u8])) -> Result<bool, String> {
        let mut buf = [0u8; 16384];
        let read = match &mut self.stream {
            Stream::Unix(s) => s.read(&mut buf),
            Stream::Tcp(s) => s.read(&mut buf),
        };
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

/// The response of a streaming `GET`, parsed as it arrives (Python's asyncore `http_client`):
/// a status other than 200 is an error, then the body is chunked or runs to the close.
#[derive(Default)]
struct StreamBody {
    pending: Vec<u8>,
    state: BodyState,
}

#[derive(Default, Debug, PartialEq)]
enum BodyState {
    #[default]
    Status,
    Headers {
        chunked: bool,
    },
    ChunkSize,
    ChunkData(usize),
    ChunkEnd,
    Plain,
    Done,
}

impl StreamBody {
    /// Takes one line (without CR LF) from the pending bytes.
    fn line(&mut self) -> Option<String> {
        let i = self.pending.iter().position(|&b| b == b'\n')?;
        let line: Vec<u8> = self.pending.drain(..=i).collect();
        Some(String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']).to_string())
    }

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
                    let status = line
                        .split_whitespace()
                        .nth(1)
                        .and_then(|s| s.parse::<u16>().ok())
                        .unwrap_or(0);
                    if status != 200 {
                        return Err(format!("Cannot read, status code {status}"));
                    }
                    self.state = BodyState::Headers { chunked: false };
                }
                BodyState::Headers { chunked } => {
                    let Some(line) = self.line() else { return Ok(true) };
                    if line.is_empty() {
                        self.state = if chunked { BodyState::ChunkSize } else { BodyState::Plain };
                    } else if let Some((name, value)) = line.split_once(':')
                        && name.eq_ignore_ascii_case("transfer-encoding")
                        && value.trim().eq_ignore_ascii_case("chunked")
                    {
                        self.state = BodyState::Headers { chunked: true };
                    }
                }
                BodyState::ChunkSize => {
                    let Some(line) = self.line() else { return Ok(true) };
                    let size =
                        usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                            .unwrap_or(0);
                    self.state =
                        if size == 0 { BodyState::Done } else { BodyState::ChunkData(size) };
                }
                BodyState::ChunkData(left) => {
                    if self.pending.is_empty() {
                        return Ok(true);
                    }
                    let n = left.min(self.pending.len());
                    let piece: Vec<u8> = self.pending.drain(..n).collect();
                    sink(&piece);
                    self.state = if n == left {
                        BodyState::ChunkEnd
                    } else {
                        BodyState::ChunkData(left - n)
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

/// Reads one HTTP response: status, headers, then the body by Content-Length, chunks, or EOF.
pub fn read_response(mut r: impl BufRead) -> Result<(u16, String, Vec<u8>), RpcError> {
    let mut line = String::new();
    r.read_line(&mut line).map_err(|e| RpcError::io(&e))?;
    let mut parts = line.trim_end().splitn(3, ' ');
    let _version = parts.next();
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| RpcError::Protocol(format!("bad status line {:?}", line.trim_end())))?;
    let reason = parts.next().unwrap_or("").to_string();
    let mut length = None;
    let mut chunked = false;
    loop {
        line.clear();
        if r.read_line(&mut line).map_err(|e| RpcError::io(&e))? == 0 {
            break;
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse::<usize>().ok();
            } else if name.eq_ignore_ascii_case("transfer-encoding")
                && value.eq_ignore_ascii_case("chunked")
            {
                chunked = true;
            }
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            r.read_line(&mut line).map_err(|e| RpcError::io(&e))?;
            let size = line.trim().split(';').next().unwrap_or("");
            let size = usize::from_str_radix(size, 16)
                .map_err(|_| RpcError::Protocol(format!("bad chunk size {size:?}")))?;
            if size == 0 {
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            r.read_exact(&mut body[start..]).map_err(|e| RpcError::io(&e))?;
            line.clear();
            r.read_line(&mut line).map_err(|e| RpcError::io(&e))?;
        }
    } else if let Some(n) = length {
        body.resize(n, 0);
        r.read_exact(&mut body).map_err(|e| RpcError::io(&e))?;
    } else {
        r.read_to_end(&mut body).map_err(|e| RpcError::io(&e))?;
    }
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
        let mut parser = StreamBody::default();
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
            body: StreamBody::default(),
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
