//! The XML-RPC client supervisorctl talks to supervisord with: one blocking HTTP/1.1 POST to
//! `/RPC2` per call, over a UNIX socket or TCP.
//!
//! Hand-written rather than on hyper: supervisorctl is a blocking one-shot CLI, the tree has no
//! HTTP client crate (the daemon's server is hand-written too), and a small client keeps the
//! binary small. One connection per call is what matters here, not throughput.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;

use base64::Engine;

use crate::rpc::xmlrpc::{self, Response, Value};

/// Why a call produced no value.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// The daemon answered with an XML-RPC fault.
    #[error("<Fault {code}: {text:?}>")]
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
}

impl RpcError {
    fn io(e: &std::io::Error) -> RpcError {
        RpcError::Io { errno: e.raw_os_error(), message: e.to_string() }
    }
}

/// The calls the command layer makes; a fake implements it in unit tests.
pub trait Rpc {
    fn call(&mut self, method: &str, params: &[Value]) -> Result<Value, RpcError>;

    /// `GET path` (`/logtail/...`, `/mainlogtail`), handing each piece of the body to `sink`
    /// as it arrives, until the server closes. `Err` is the line Python's `http_client`
    /// prints to stderr (without the URL). The default streams nothing (fakes).
    fn follow(&mut self, _path: &str, _sink: &mut dyn FnMut(&[u8])) -> Result<(), String> {
        Ok(())
    }

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

    fn follow(&mut self, path: &str, sink: &mut dyn FnMut(&[u8])) -> Result<(), String> {
        let connected = self.connect().map_err(|e| format!("Cannot connect, error: {e}"))?;
        match connected {
            Stream::Unix(s) => self.follow_stream(s, path, sink),
            Stream::Tcp(s) => self.follow_stream(s, path, sink),
        }
    }
}

impl HttpRpc {
    fn follow_stream<S: Read + Write>(
        &self,
        mut stream: S,
        path: &str,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<(), String> {
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
        let cannot = |e: std::io::Error| format!("Cannot connect, error: {e}");
        stream.write_all(head.as_bytes()).map_err(cannot)?;
        let mut r = BufReader::new(stream);
        let mut line = String::new();
        r.read_line(&mut line).map_err(cannot)?;
        let status =
            line.split_whitespace().nth(1).and_then(|s| s.parse::<u16>().ok()).unwrap_or(0);
        if status != 200 {
            return Err(format!("Cannot read, status code {status}"));
        }
        let mut chunked = false;
        loop {
            line.clear();
            if r.read_line(&mut line).map_err(cannot)? == 0 {
                return Ok(());
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("transfer-encoding")
                && value.trim().eq_ignore_ascii_case("chunked")
            {
                chunked = true;
            }
        }
        if chunked {
            loop {
                line.clear();
                if r.read_line(&mut line).map_err(cannot)? == 0 {
                    return Ok(());
                }
                let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                    .unwrap_or(0);
                if size == 0 {
                    return Ok(());
                }
                let mut chunk = vec![0; size];
                r.read_exact(&mut chunk).map_err(cannot)?;
                sink(&chunk);
                line.clear();
                r.read_line(&mut line).map_err(cannot)?;
            }
        }
        let mut buf = [0u8; 8192];
        loop {
            match r.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => sink(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(cannot(e)),
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
}
