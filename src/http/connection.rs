//! One client connection: read request heads, check auth, route (`/RPC2*` → `/logtail*` →
//! `/mainlogtail*` → web UI → default), write medusa's replies, and keep the connection open or
//! close it by medusa's rules. Requests on one connection are answered in order.

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body::Body as _;
use http_body_util::BodyExt;
use jiff::Timestamp;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;

use crate::config::datatypes::LogLevel;
use crate::http::auth::{Credentials, Verdict};
use crate::http::backend::{Backend, Body};
use crate::http::logtail::{self, Tail, TailEvent};
use crate::http::request::{RequestHead, parse_head, unquote};
use crate::http::response::{Framing, Reply, error_reply, header_case, http_date, log_date};

/// The largest request body accepted (XML-RPC calls and web form posts): 413 beyond it.
/// supervisor has no limit; supervisorctl's calls are a few hundred bytes, and even a large
/// `sendProcessStdin` or `multicall` stays far below this.
pub const MAX_REQUEST_BODY: usize = 4 * 1024 * 1024;

/// A request head longer than this without its blank line ends the connection (medusa would
/// buffer without bound).
const MAX_HEAD: usize = 64 * 1024;

/// medusa closes channels unused for 30 minutes.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// How often a tail looks at its file (`tail_f_producer.delay`).
const TAIL_POLL: Duration = Duration::from_millis(100);

/// How long a closing connection keeps reading (and discarding) what the client still sends,
/// so that closing does not reset the connection before the client has read the reply.
const LINGER: Duration = Duration::from_secs(2);

const READ_CHUNK: usize = 8 * 1024;

/// The web UI's views (`web.VIEWS`): a POST to one of them needs a Content-Length.
const UI_VIEWS: [&str; 3] = ["index.html", "tail.html", "ok.html"];

/// What one server's connections share.
pub(crate) struct ServerCtx {
    pub credentials: Option<Credentials>,
    pub backend: Arc<dyn Backend>,
    /// `http://<server_name>:<port>` (`http://<unix domain socket>:<path>` on a unix socket),
    /// what the web UI's redirects name when a request has no `Host`.
    pub server_url: String,
}

/// Who is on the other end, as the access log names it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Peer {
    Inet(std::net::SocketAddr),
    /// Unix sockets have no peer address; medusa logs `localhost:0`.
    Unix,
}

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Peer::Inet(a) => write!(f, "{}:{}", a.ip(), a.port()),
            Peer::Unix => f.write_str("localhost:0"),
        }
    }
}

/// What happens to the connection after a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    KeepAlive,
    /// Half-close, drain briefly, close.
    Close,
    /// Close at once: the peer is gone or the byte stream can no longer be trusted.
    Drop,
}

/// Serve `stream` until the client leaves, a reply closes it, or shutdown is signalled.
pub(crate) async fn run<S>(
    stream: S,
    peer: Peer,
    ctx: Arc<ServerCtx>,
    shutdown: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let mut conn = Conn { stream, buf: Vec::new(), peer, ctx, shutdown, pending: Pending::Nothing };
    conn.serve().await;
}

/// Resolves once shutdown is signalled (or its sender is gone, which means the daemon is).
pub(crate) async fn shutdown_signalled(rx: &mut watch::Receiver<bool>) {
    loop {
        if *rx.borrow_and_update() {
            return;
        }
        if rx.changed().await.is_err() {
            return;
        }
    }
}

struct Conn<S> {
    stream: S,
    /// Bytes read but not consumed yet (the rest of a head, a body, pipelined requests).
    buf: Vec<u8>,
    peer: Peer,
    ctx: Arc<ServerCtx>,
    shutdown: watch::Receiver<bool>,
    /// The current request's body, while no handler has read it.
    pending: Pending,
}

/// A request body no handler reads (medusa leaves it in the stream, to be misread as the next
/// request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Nothing,
    /// This many bytes, skipped before the next request.
    Skip(usize),
    /// A length that cannot be trusted or skipped (chunked, malformed, too large): the
    /// connection closes after the reply.
    Unframed,
}

/// A request's Content-Length as the body collector reads it (`int()` of the header).
enum BodyLength {
    /// No `content-length: ` header, or an empty one: 411.
    Missing,
    /// Not an integer: Python's `int()` raises and medusa answers 500.
    Invalid,
    Negative,
    TooLarge,
    Exact(usize),
}

impl<S> Conn<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    async fn serve(&mut self) {
        loop {
            let Some(raw) = self.read_head().await else { return };
            // medusa closes without a reply when it cannot crack the head.
            let Ok(head) = parse_head(&raw) else { return };
            let after = match self.handle(&head).await {
                Ok(after) => after,
                Err(_) => After::Drop,
            };
            let skipped = match self.pending {
                Pending::Skip(n) if after == After::KeepAlive => self.discard(n).await,
                _ => true,
            };
            match after {
                After::KeepAlive if skipped && !*self.shutdown.borrow() => {}
                After::KeepAlive | After::Close => {
                    self.linger_close().await;
                    return;
                }
                After::Drop => return,
            }
        }
    }

    /// The bytes before the next blank line, or `None` when the connection should end.
    async fn read_head(&mut self) -> Option<Vec<u8>> {
        let mut searched = 0;
        loop {
            if let Some(i) = find(&self.buf[searched..], b"\r\n\r\n") {
                let end = searched + i;
                let head = self.buf[..end].to_vec();
                self.buf.drain(..end + 4);
                return Some(head);
            }
            if self.buf.len() > MAX_HEAD {
                return None;
            }
            searched = self.buf.len().saturating_sub(3);
            if !self.read_more().await {
                return None;
            }
        }
    }

    /// Read whatever arrives next into `buf`; false on EOF, error, idle timeout or shutdown.
    async fn read_more(&mut self) -> bool {
        self.buf.reserve(READ_CHUNK);
        tokio::select! {
            r = tokio::time::timeout(IDLE_TIMEOUT, self.stream.read_buf(&mut self.buf)) => {
                matches!(r, Ok(Ok(n)) if n > 0)
            }
            () = shutdown_signalled(&mut self.shutdown) => false,
        }
    }

    /// Drop the next `n` bytes of the stream; false if it ends first.
    async fn discard(&mut self, mut n: usize) -> bool {
        loop {
            let take = n.min(self.buf.len());
            self.buf.drain(..take);
            n -= take;
            if n == 0 {
                return true;
            }
            if !self.read_more().await {
                return false;
            }
        }
    }

    async fn read_body(&mut self, n: usize) -> Option<Bytes> {
        while self.buf.len() < n {
            if !self.read_more().await {
                return None;
            }
        }
        let body = Bytes::copy_from_slice(&self.buf[..n]);
        self.buf.drain(..n);
        Some(body)
    }

    async fn handle(&mut self, head: &RequestHead) -> std::io::Result<After> {
        self.pending = pending_body(head);
        if let Some(credentials) = &self.ctx.credentials {
            match credentials.check(head) {
                Verdict::Granted => {}
                Verdict::Denied { unsupported } => {
                    if let Some(scheme) = unsupported {
                        stderr(&format!("unknown/unsupported auth method: {scheme}\n"));
                    }
                    // medusa then ignores everything else the client sends; closing says the
                    // same thing more cheaply, and the reply announces it.
                    let mut reply = Reply::new(401);
                    reply.set("Connection", "close");
                    reply.set("WWW-Authenticate", "Basic realm=\"default\"");
                    return self.send_error(head, reply, true).await;
                }
                Verdict::Malformed { credentials } => {
                    stderr(&format!("malformed authorization info <{credentials}>\n"));
                    return self.send_error(head, Reply::new(400), false).await;
                }
            }
        }
        let uri = head.uri.as_str();
        if uri.starts_with("/RPC2") {
            self.xmlrpc(head).await
        } else if uri.starts_with("/logtail") {
            self.logtail(head).await
        } else if uri.starts_with("/mainlogtail") {
            self.mainlogtail(head).await
        } else {
            self.web(head).await
        }
    }

    /// `supervisor_xmlrpc_handler`: POST only, Content-Length required.
    async fn xmlrpc(&mut self, head: &RequestHead) -> std::io::Result<After> {
        if head.command != "POST" {
            return self.send_error(head, Reply::new(400), false).await;
        }
        let body = match self.collect_body(head).await {
            Ok(body) => body,
            Err(after) => return after,
        };
        let outcome = self.ctx.backend.xmlrpc(body).await;
        match outcome {
            crate::http::RpcOutcome::Xml(xml) => {
                let mut reply = Reply::new(200);
                reply.set("Content-Type", "text/xml");
                reply.set("Content-Length", xml.len().to_string());
                self.send(head, reply, &xml, false).await
            }
            crate::http::RpcOutcome::BadRequest => {
                self.send_error(head, Reply::new(400), false).await
            }
            crate::http::RpcOutcome::ServerError => {
                self.send_error(head, Reply::new(500), false).await
            }
        }
    }

    /// Read the body announced by Content-Length, or answer the error that a missing or bad
    /// one earns (the `Err` holds the finished exchange).
    async fn collect_body(&mut self, head: &RequestHead) -> Result<Bytes, std::io::Result<After>> {
        let code = match body_length(head) {
            BodyLength::Exact(n) => {
                self.pending = Pending::Nothing;
                return match self.read_body(n).await {
                    Some(body) => Ok(body),
                    None => Err(Ok(After::Drop)),
                };
            }
            BodyLength::Missing => 411,
            BodyLength::Invalid => 500,
            BodyLength::Negative => 400,
            BodyLength::TooLarge => 413,
        };
        Err(self.send_error(head, Reply::new(code), false).await)
    }

    /// `logtail_handler`: `/logtail/‹namespec›[/‹channel›]`.
    async fn logtail(&mut self, head: &RequestHead) -> std::io::Result<After> {
        if head.command != "GET" {
            return self.send_error(head, Reply::new(400), false).await;
        }
        let mut path = head.path().to_string();
        if path.contains('%') {
            path = unquote(&path);
        }
        // supervisor fails to split a path without a second segment and answers 500; there is
        // no such log, so this answers 404.
        let Some((_, rest)) = path.trim_start_matches('/').split_once('/') else {
            return self.send_error(head, Reply::new(404), false).await;
        };
        let (name, channel) = rest.split_once('/').unwrap_or((rest, "stdout"));
        let logfile = match channel {
            "stdout" | "stderr" => self.ctx.backend.process_logfile(name, channel),
            _ => None,
        };
        match logfile {
            Some(logfile) => self.tail(head, &logfile, true).await,
            None => self.send_error(head, Reply::new(404), false).await,
        }
    }

    /// `mainlogtail_handler`.
    async fn mainlogtail(&mut self, head: &RequestHead) -> std::io::Result<After> {
        if head.command != "GET" {
            return self.send_error(head, Reply::new(400), false).await;
        }
        match self.ctx.backend.main_logfile() {
            Some(logfile) => self.tail(head, &logfile, false).await,
            None => self.send_error(head, Reply::new(404), false).await,
        }
    }

    /// Stream a log file: the last 1024 bytes, then whatever is appended, until the client goes.
    /// HTTP/1.1 gets chunks; other versions get the bytes as they come on a connection that
    /// ends the body by closing (medusa holds those back until 64 KiB accumulate, GOT-28).
    async fn tail(
        &mut self,
        head: &RequestHead,
        logfile: &str,
        accel_header: bool,
    ) -> std::io::Result<After> {
        let Ok(meta) = std::fs::metadata(logfile) else {
            return self.send_error(head, Reply::new(404), false).await;
        };
        let Ok(mut tail) = Tail::open(logfile, logtail::HEAD) else {
            return self.send_error(head, Reply::new(500), false).await;
        };
        let mtime = std::os::unix::fs::MetadataExt::mtime(&meta);
        let mut reply = Reply::new(200);
        reply.set(
            "Last-Modified",
            http_date(Timestamp::from_second(mtime).unwrap_or_else(|_| Timestamp::now())),
        );
        reply.set("Content-Type", "text/plain;charset=utf-8");
        if accel_header {
            // Tells a reverse proxy such as nginx not to buffer the stream.
            reply.set("X-Accel-Buffering", "no");
        }
        let framing = self.finish(head, &mut reply, false);
        let head_bytes = reply.head_bytes(head.version.as_deref());
        self.stream.write_all(&head_bytes).await?;
        let mut total = head_bytes.len();
        loop {
            let event = tail.poll(logtail::MAX_READ);
            match event {
                Ok(TailEvent::Data(data)) => {
                    total += self.write_piece(&data, framing.chunked).await?;
                }
                Ok(TailEvent::Truncated) => {
                    total += self.write_piece(logtail::TRUNCATED, framing.chunked).await?;
                }
                Ok(TailEvent::Idle) => {
                    if !self.wait_while_tailing().await {
                        return Ok(After::Drop);
                    }
                }
                Err(_) => {
                    // The producer ran dry: medusa ends the body there.
                    if framing.chunked {
                        self.stream.write_all(b"0\r\n\r\n").await?;
                        total += 5;
                    }
                    self.access_log(head, reply.code, total);
                    return Ok(if framing.close { After::Close } else { After::KeepAlive });
                }
            }
        }
    }

    /// Sleep one tail poll interval while watching the client: false when it has gone (or
    /// floods us), or when shutdown is signalled.
    async fn wait_while_tailing(&mut self) -> bool {
        self.buf.reserve(READ_CHUNK);
        tokio::select! {
            () = tokio::time::sleep(TAIL_POLL) => true,
            r = self.stream.read_buf(&mut self.buf) => {
                matches!(r, Ok(n) if n > 0) && self.buf.len() <= MAX_HEAD
            }
            () = shutdown_signalled(&mut self.shutdown) => false,
        }
    }

    async fn write_piece(&mut self, data: &[u8], chunked: bool) -> std::io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        if !chunked {
            self.stream.write_all(data).await?;
            return Ok(data.len());
        }
        let mut framed = format!("{:x}\r\n", data.len()).into_bytes();
        framed.extend_from_slice(data);
        framed.extend_from_slice(b"\r\n");
        self.stream.write_all(&framed).await?;
        Ok(framed.len())
    }

    /// The web UI (through the backend), then supervisor's fallbacks: `ok.html`, 400 for
    /// methods the static file handler refuses, 404.
    async fn web(&mut self, head: &RequestHead) -> std::io::Result<After> {
        let path = match head.path().trim_start_matches('/') {
            "" => "index.html",
            p => p,
        };
        let is_view = matches!(head.command.as_str(), "GET" | "POST") && UI_VIEWS.contains(&path);
        let body = if is_view && head.command == "POST" {
            match self.collect_body(head).await {
                Ok(body) => body,
                Err(after) => return after,
            }
        } else {
            Bytes::new()
        };
        let request = crate::web::WebRequest {
            method: head.command.clone(),
            uri: head.uri.clone(),
            host: head.header("host").map(str::to_string),
            if_modified_since: head.header("if-modified-since").map(str::to_string),
            server_url: self.ctx.server_url.clone(),
            body,
        };
        if let Some(page) = self.ctx.backend.web(request) {
            let response = page.await;
            return self.send_web(head, response).await;
        }
        if is_view && path == "ok.html" {
            let mut reply = Reply::new(200);
            reply.set("Content-Type", "text/plain");
            reply.set("Content-Length", "2");
            return self.send(head, reply, b"OK", false).await;
        }
        let code = if matches!(head.command.as_str(), "GET" | "HEAD") { 404 } else { 400 };
        self.send_error(head, Reply::new(code), false).await
    }

    /// Write a page from the web hook: its status and headers after `Server` and `Date`, a
    /// Content-Length when the body's size is known, then the body by medusa's framing rules.
    async fn send_web(
        &mut self,
        head: &RequestHead,
        response: http::Response<Body>,
    ) -> std::io::Result<After> {
        let (parts, mut body) = response.into_parts();
        let mut reply = Reply::new(parts.status.as_u16());
        for (name, value) in &parts.headers {
            let name = header_case(name.as_str());
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            if name == "Server" || name == "Date" {
                reply.set(&name, value);
            } else {
                reply.append(&name, value);
            }
        }
        let unframed =
            reply.get("Content-Length").is_none() && reply.get("Transfer-Encoding").is_none();
        if let Some(n) = body.size_hint().exact().filter(|_| unframed) {
            reply.set("Content-Length", n.to_string());
        }
        let declared: Option<u64> = reply.get("Content-Length").and_then(|v| v.trim().parse().ok());
        let framing = self.finish(head, &mut reply, false);
        let out = reply.head_bytes(head.version.as_deref());
        self.stream.write_all(&out).await?;
        let mut total = out.len();
        let mut body_bytes: u64 = 0;
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame;
            let Ok(data) = frame.into_data() else { continue };
            body_bytes += data.len() as u64;
            if declared.is_some_and(|d| body_bytes > d) {
                // More than announced would corrupt the next reply on this connection.
                return Ok(After::Drop);
            }
            total += self.write_piece(&data, framing.chunked).await?;
        }
        if framing.chunked {
            self.stream.write_all(b"0\r\n\r\n").await?;
            total += 5;
        }
        // A HEAD reply announces the length of a body it does not send.
        let short = declared.is_some_and(|d| body_bytes != d)
            && !(head.command == "HEAD" && body_bytes == 0);
        if short {
            return Ok(After::Drop);
        }
        self.access_log(head, reply.code, total);
        Ok(if framing.close { After::Close } else { After::KeepAlive })
    }

    async fn send_error(
        &mut self,
        head: &RequestHead,
        reply: Reply,
        force_close: bool,
    ) -> std::io::Result<After> {
        let (reply, body) = error_reply(reply);
        self.send(head, reply, &body, force_close).await
    }

    /// medusa's framing for `reply`, then ours on top: the connection also closes when the
    /// caller says so or when a request body of unknown length was left unread. Where medusa
    /// would write a `Connection` header it then says `close`; where it would write none, none
    /// is added, so such replies stay byte-identical to medusa's.
    fn finish(&self, head: &RequestHead, reply: &mut Reply, force_close: bool) -> Framing {
        let mut framing = reply.finish(head.version.as_deref(), &head.connection());
        if force_close || self.pending == Pending::Unframed {
            framing.close = true;
            if reply.get("Connection").is_some() {
                reply.set("Connection", "close");
            }
        }
        framing
    }

    /// Write a reply whose body is known; `force_close` closes the connection after it.
    async fn send(
        &mut self,
        head: &RequestHead,
        mut reply: Reply,
        body: &[u8],
        force_close: bool,
    ) -> std::io::Result<After> {
        let framing = self.finish(head, &mut reply, force_close);
        let head_bytes = reply.head_bytes(head.version.as_deref());
        self.write_head_and_body(&head_bytes, body).await?;
        self.access_log(head, reply.code, head_bytes.len() + body.len());
        Ok(if framing.close { After::Close } else { After::KeepAlive })
    }

    /// Both in one `writev` when the socket takes them, so a large reply is not copied behind
    /// its head first.
    async fn write_head_and_body(&mut self, head: &[u8], body: &[u8]) -> std::io::Result<()> {
        let slices = [std::io::IoSlice::new(head), std::io::IoSlice::new(body)];
        let written = self.stream.write_vectored(&slices).await?;
        if written == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        if written < head.len() {
            self.stream.write_all(&head[written..]).await?;
            self.stream.write_all(body).await
        } else {
            self.stream.write_all(&body[written - head.len()..]).await
        }
    }

    /// medusa's access log line, through supervisor's `LogWrapper` (ERROR if it says "error").
    fn access_log(&self, head: &RequestHead, code: u16, bytes: usize) {
        // The sniffed word can only come from the request line: the peer (an address, or
        // `localhost:0`), date, code and size hold no letters that spell it, and the separators
        // break any word across parts. So the level is known before the line is built, and
        // usually nothing is built at all.
        // ASCII case-insensitively is Python's `lower()` here: no other character lowercases
        // to one of these letters.
        let sniffed = head.line.as_bytes().windows(5).any(|w| w.eq_ignore_ascii_case(b"error"));
        let level = if sniffed { LogLevel::Error } else { LogLevel::Trace };
        if !self.ctx.backend.log_enabled(level) {
            return;
        }
        let line = format!(
            "{} - - [{}] \"{}\" {code} {bytes}",
            self.peer,
            log_date(Timestamp::now()),
            head.line
        );
        self.ctx.backend.log(level, &line);
    }

    /// Half-close, then read and discard for a moment: closing a socket with unread input
    /// makes the kernel send a reset, which can destroy the reply before the client reads it.
    async fn linger_close(&mut self) {
        let _ = self.stream.shutdown().await;
        let mut sink = [0u8; READ_CHUNK];
        let stream = &mut self.stream;
        let _ = tokio::time::timeout(LINGER, async {
            while let Ok(n) = stream.read(&mut sink).await {
                if n == 0 {
                    break;
                }
            }
        })
        .await;
    }
}

/// What the head says about a body, by any spelling of Content-Length or Transfer-Encoding
/// (medusa only sees `content-length: ` with one space, but the bytes are there either way).
fn pending_body(head: &RequestHead) -> Pending {
    let mut pending = Pending::Nothing;
    for line in &head.headers {
        let Some((name, value)) = line.split_once(':') else { continue };
        let name = name.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            return Pending::Unframed;
        }
        if name.eq_ignore_ascii_case("content-length") && pending == Pending::Nothing {
            pending = match python_int(value).map(usize::try_from) {
                Some(Ok(0)) => Pending::Nothing,
                Some(Ok(n)) if n <= MAX_REQUEST_BODY => Pending::Skip(n),
                _ => Pending::Unframed,
            };
        }
    }
    pending
}

fn body_length(head: &RequestHead) -> BodyLength {
    let Some(value) = head.header("content-length").filter(|v| !v.is_empty()) else {
        return BodyLength::Missing;
    };
    match python_int(value) {
        None => BodyLength::Invalid,
        Some(n) if n < 0 => BodyLength::Negative,
        Some(n) => match usize::try_from(n) {
            Ok(n) if n <= MAX_REQUEST_BODY => BodyLength::Exact(n),
            _ => BodyLength::TooLarge,
        },
    }
}

/// Python's `int(str)` for the forms a header can hold: surrounding whitespace, a sign, digits
/// with single underscores between them. Huge values saturate.
fn python_int(s: &str) -> Option<i64> {
    let s = s.trim();
    let (negative, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let mut n: i64 = 0;
    for b in digits.bytes() {
        match b {
            b'_' => {}
            b'0'..=b'9' => n = n.saturating_mul(10).saturating_add(i64::from(b - b'0')),
            _ => return None,
        }
    }
    Some(if negative { -n } else { n })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// supervisor's auth handler writes its complaints to the daemon's stderr.
fn stderr(message: &str) {
    let _ = std::io::stderr().write_all(message.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_like_python_int() {
        assert_eq!(python_int("12"), Some(12));
        assert_eq!(python_int(" +12 "), Some(12));
        assert_eq!(python_int("1_000"), Some(1000));
        assert_eq!(python_int("-5"), Some(-5));
        assert_eq!(python_int("99999999999999999999999"), Some(i64::MAX));
        for bad in ["", "abc", "1__0", "_1", "1_", "0x10", "1.5", "+", "- 1"] {
            assert_eq!(python_int(bad), None, "{bad}");
        }
    }

    #[test]
    fn body_declarations() {
        let head = |h: &str| parse_head(format!("POST / HTTP/1.1\r\n{h}").as_bytes()).unwrap();
        assert_eq!(pending_body(&head("Content-Length:5")), Pending::Skip(5));
        assert_eq!(
            pending_body(&head("Content-Length: 5\r\nTransfer-Encoding: chunked")),
            Pending::Unframed
        );
        assert_eq!(pending_body(&head("Content-Length: 0")), Pending::Nothing);
        assert_eq!(pending_body(&head("Content-Length: x")), Pending::Unframed);
        assert_eq!(pending_body(&head("Content-Length: 99999999")), Pending::Unframed);
        assert_eq!(pending_body(&head("Host: x")), Pending::Nothing);
        assert!(matches!(body_length(&head("Content-Length:5")), BodyLength::Missing));
        assert!(matches!(body_length(&head("Content-Length: ")), BodyLength::Missing));
        assert!(matches!(body_length(&head("Content-Length: x")), BodyLength::Invalid));
        assert!(matches!(body_length(&head("Content-Length: -1")), BodyLength::Negative));
        assert!(matches!(body_length(&head("Content-Length: 4194305")), BodyLength::TooLarge));
        assert!(matches!(body_length(&head("Content-Length: 4194304")), BodyLength::Exact(_)));
    }
}
