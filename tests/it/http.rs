//! The HTTP layer over real sockets (a unix socket in a temp dir and 127.0.0.1:0) with a fake
//! backend: medusa's replies byte for byte except the date, auth, keep-alive, logtail streams,
//! socket binding, and robustness against bad input. `compat_server` is the Rust half of
//! `compat-tests/test_http_raw.py`.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use supervisor::config::datatypes::LogLevel;
use supervisor::config::{HttpServerConfig, ServerAddress};
use supervisor::http::{Backend, Body, BoxFuture, Endpoint, HttpError, HttpServers, RpcOutcome};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{Notify, watch};

/// The XML Python supervisor answers to `supervisor.getAPIVersion`.
const API_VERSION_XML: &str = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n\
<value><string>3.0</string></value>\n</param>\n</params>\n</methodResponse>\n";

const SHA_OF_TEST: &str = "{SHA}a94a8fe5ccb19ba61c4c0873d391e987982fbbd3";
/// `user:test`
const GOOD_AUTH: &str = "Authorization: Basic dXNlcjp0ZXN0\r\n";

// ---------------------------------------------------------------------------------------------
// The fake backend

#[derive(Default)]
struct Fake {
    logs: Mutex<Vec<(LogLevel, String)>>,
    logfiles: HashMap<(String, String), String>,
    main_log: Option<String>,
    /// Calls whose body contains `slow` wait for this.
    release: Arc<Notify>,
    web_pages: bool,
}

impl Backend for Fake {
    fn xmlrpc(&self, body: Bytes) -> BoxFuture<RpcOutcome> {
        let text = String::from_utf8_lossy(&body).into_owned();
        let release = Arc::clone(&self.release);
        Box::pin(async move {
            if text.contains("slow") {
                release.notified().await;
                return RpcOutcome::Xml(format!("<slow>{}</slow>", text.len()).into());
            }
            if text.contains("bad") {
                return RpcOutcome::BadRequest;
            }
            if text.contains("boom") {
                return RpcOutcome::ServerError;
            }
            if text.contains("getAPIVersion") {
                return RpcOutcome::Xml(API_VERSION_XML.into());
            }
            RpcOutcome::Xml(format!("<echo>{}</echo>", text.len()).into())
        })
    }

    fn process_logfile(&self, namespec: &str, channel: &str) -> Option<String> {
        let name = namespec.rsplit(':').next().unwrap_or(namespec);
        self.logfiles.get(&(name.to_string(), channel.to_string())).cloned()
    }

    fn main_logfile(&self) -> Option<String> {
        self.main_log.clone()
    }

    fn web(&self, request: supervisor::web::WebRequest) -> Option<BoxFuture<http::Response<Body>>> {
        if !self.web_pages || !request.uri.starts_with("/index.html") {
            return None;
        }
        let text = format!("{} {} {}", request.method, request.uri, request.body.len());
        Some(Box::pin(async move {
            http::Response::builder()
                .status(200)
                .header("content-type", "text/html;charset=utf-8")
                .header("pragma", "no-cache")
                .body(supervisor::http::full_body(text))
                .unwrap()
        }))
    }

    fn log(&self, level: LogLevel, message: &str) {
        self.logs.lock().unwrap().push((level, message.to_string()));
    }
}

// ---------------------------------------------------------------------------------------------
// Servers and clients

fn inet(username: Option<&str>, password: Option<&str>) -> HttpServerConfig {
    HttpServerConfig {
        name: None,
        section: "inet_http_server".into(),
        address: ServerAddress::Inet { host: "127.0.0.1".into(), port: 0 },
        username: username.map(Into::into),
        password: password.map(Into::into),
    }
}

fn unix(path: &Path) -> HttpServerConfig {
    HttpServerConfig {
        name: None,
        section: "unix_http_server".into(),
        address: ServerAddress::Unix {
            file: path.to_str().unwrap().into(),
            chmod: 0o700,
            chown: (-1, -1),
        },
        username: None,
        password: None,
    }
}

struct Running {
    endpoints: Vec<Endpoint>,
    backend: Arc<Fake>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    _servers: HttpServers,
    _dir: tempfile::TempDir,
}

impl Running {
    fn unix(&self) -> Endpoint {
        self.endpoints.iter().find(|e| matches!(e, Endpoint::Unix(_))).unwrap().clone()
    }
    fn inet(&self) -> Endpoint {
        self.endpoints.iter().find(|e| matches!(e, Endpoint::Inet(_))).unwrap().clone()
    }
    fn dir(&self) -> &Path {
        self._dir.path()
    }
}

/// A unix server (no auth) and an inet server (auth when `creds` is given), in a temp dir.
fn start_with(fake: Fake, creds: Option<(&str, &str)>) -> Running {
    let dir = tempfile::tempdir().unwrap();
    start_in(dir, fake, creds)
}

fn start_in(dir: tempfile::TempDir, fake: Fake, creds: Option<(&str, &str)>) -> Running {
    let configs =
        vec![unix(&dir.path().join("s.sock")), inet(creds.map(|c| c.0), creds.map(|c| c.1))];
    let servers = HttpServers::bind(&configs).unwrap();
    let backend = Arc::new(fake);
    let (stop, rx) = watch::channel(false);
    let task = tokio::spawn(servers.serve(backend.clone(), rx));
    Running { endpoints: servers.endpoints(), backend, stop, task, _servers: servers, _dir: dir }
}

fn start() -> Running {
    start_with(Fake::default(), None)
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

struct Client {
    io: Box<dyn Io>,
    buf: Vec<u8>,
}

#[derive(Debug)]
struct Resp {
    status: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
    fn names(&self) -> Vec<&str> {
        self.headers.iter().map(|(n, _)| n.as_str()).collect()
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

const WAIT: Duration = Duration::from_secs(5);

async fn connect(ep: &Endpoint) -> Client {
    let io: Box<dyn Io> = match ep {
        Endpoint::Inet(a) => Box::new(tokio::net::TcpStream::connect(a).await.unwrap()),
        Endpoint::Unix(p) => Box::new(tokio::net::UnixStream::connect(p).await.unwrap()),
    };
    Client { io, buf: Vec::new() }
}

impl Client {
    async fn send(&mut self, data: impl AsRef<[u8]>) {
        self.io.write_all(data.as_ref()).await.unwrap();
    }

    /// Read more bytes into the buffer; false on EOF (or a reset).
    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 8192];
        let n = tokio::time::timeout(WAIT, self.io.read(&mut chunk))
            .await
            .expect("server too slow")
            .unwrap_or(0);
        self.buf.extend_from_slice(&chunk[..n]);
        n > 0
    }

    async fn head(&mut self) -> (String, Vec<(String, String)>) {
        loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8(self.buf[..i].to_vec()).unwrap();
                self.buf.drain(..i + 4);
                let mut lines = head.split("\r\n");
                let status = lines.next().unwrap().to_string();
                let headers = lines
                    .map(|l| {
                        let (n, v) = l.split_once(": ").unwrap();
                        (n.to_string(), v.to_string())
                    })
                    .collect();
                return (status, headers);
            }
            assert!(self.fill().await, "EOF before a reply head; got {:?}", self.buf);
        }
    }

    async fn exact(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            assert!(self.fill().await, "EOF inside a body");
        }
        self.buf.drain(..n).collect()
    }

    async fn line(&mut self) -> String {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8(self.buf[..i].to_vec()).unwrap();
                self.buf.drain(..i + 2);
                return line;
            }
            assert!(self.fill().await, "EOF inside a chunk header");
        }
    }

    async fn chunk(&mut self) -> Vec<u8> {
        let size = usize::from_str_radix(&self.line().await, 16).unwrap();
        let data = self.exact(size).await;
        assert_eq!(self.exact(2).await, b"\r\n");
        data
    }

    /// A whole reply with a Content-Length or until EOF.
    async fn response(&mut self) -> Resp {
        let (status, headers) = self.head().await;
        let mut resp = Resp { status, headers, body: Vec::new() };
        if let Some(n) = resp.header("Content-Length") {
            resp.body = self.exact(n.parse().unwrap()).await;
        } else if resp.header("Transfer-Encoding") == Some("chunked") {
            loop {
                let c = self.chunk().await;
                if c.is_empty() {
                    assert_eq!(self.line().await, "");
                    break;
                }
                resp.body.extend(c);
            }
        } else {
            while self.fill().await {}
            resp.body = std::mem::take(&mut self.buf);
        }
        resp
    }

    /// True when the server closes the connection (nothing more arrives).
    async fn closed(&mut self) -> bool {
        !self.fill().await && self.buf.is_empty()
    }

    /// Whatever arrives within `d` (for streams without framing).
    async fn within(&mut self, d: Duration) -> Vec<u8> {
        let mut chunk = [0u8; 65536];
        if let Ok(Ok(n)) = tokio::time::timeout(d, self.io.read(&mut chunk)).await {
            self.buf.extend_from_slice(&chunk[..n]);
        }
        std::mem::take(&mut self.buf)
    }
}

async fn exchange(ep: &Endpoint, request: impl AsRef<[u8]>) -> Resp {
    let mut c = connect(ep).await;
    c.send(request).await;
    c.response().await
}

fn post(path: &str, body: &str, extra: &str) -> String {
    format!("POST {path} HTTP/1.1\r\nContent-Length: {}\r\n{extra}\r\n{body}", body.len())
}

fn error_page(code: u16, message: &str) -> String {
    format!(
        "<head>\r\n<title>Error response</title>\r\n</head>\r\n<body>\r\n<h1>Error response</h1>\r\n\
         <p>Error code {code}.\r\n<p>Message: {message}.\r\n</body>\r\n"
    )
}

fn assert_error(resp: &Resp, version: &str, code: u16, message: &str) {
    assert_eq!(resp.status, format!("HTTP/{version} {code} {message}"));
    assert_eq!(resp.text(), error_page(code, message));
    assert_eq!(
        resp.header("Content-Length"),
        Some(error_page(code, message).len().to_string().as_str())
    );
    assert_eq!(resp.header("Content-Type"), Some("text/html"));
    assert_eq!(resp.header("Server"), Some("Medusa/1.12"));
    let date = resp.header("Date").unwrap();
    assert!(date.ends_with(" GMT") && date.len() == 29, "{date}");
}

// ---------------------------------------------------------------------------------------------
// XML-RPC

#[tokio::test]
async fn rpc_post_happy_path_on_both_transports() {
    let r = start();
    for ep in [r.unix(), r.inet()] {
        let body = "<methodCall><methodName>supervisor.getAPIVersion</methodName></methodCall>";
        let resp = exchange(&ep, post("/RPC2", body, "")).await;
        assert_eq!(resp.status, "HTTP/1.1 200 OK");
        assert_eq!(resp.names(), ["Server", "Date", "Content-Type", "Content-Length"]);
        assert_eq!(resp.header("Content-Type"), Some("text/xml"));
        assert_eq!(resp.text(), API_VERSION_XML);
    }
    // Any URI starting with /RPC2 is the RPC handler, after the path is percent-decoded.
    let resp = exchange(&r.unix(), post("/RPC2xyz?x=1", "abc", "")).await;
    assert_eq!(resp.text(), "<echo>3</echo>");
    let resp = exchange(&r.unix(), post("/%52PC2", "abcd", "")).await;
    assert_eq!(resp.text(), "<echo>4</echo>");
}

#[tokio::test]
async fn rpc_errors() {
    let r = start();
    let ep = r.unix();
    assert_error(&exchange(&ep, "GET /RPC2 HTTP/1.1\r\n\r\n").await, "1.1", 400, "Bad Request");
    assert_error(&exchange(&ep, "HEAD /RPC2 HTTP/1.1\r\n\r\n").await, "1.1", 400, "Bad Request");
    assert_error(
        &exchange(&ep, "post /RPC2 HTTP/1.1\r\nContent-Length: 1\r\n\r\nx").await,
        "1.1",
        400,
        "Bad Request",
    );
    assert_error(
        &exchange(&ep, "POST /RPC2 HTTP/1.1\r\n\r\n").await,
        "1.1",
        411,
        "Length Required",
    );
    // medusa only sees `content-length: ` with one space.
    assert_error(
        &exchange(&ep, "POST /RPC2 HTTP/1.1\r\ncontent-length:3\r\n\r\nabc").await,
        "1.1",
        411,
        "Length Required",
    );
    let resp = exchange(&ep, "POST /RPC2 HTTP/1.1\r\nContent-Length: abc\r\n\r\n").await;
    assert_error(&resp, "1.1", 500, "Internal Server Error");
    assert_error(&exchange(&ep, post("/RPC2", "bad", "")).await, "1.1", 400, "Bad Request");
    let resp = exchange(&ep, post("/RPC2", "boom", "")).await;
    assert_error(&resp, "1.1", 500, "Internal Server Error");
    // Content-Length: 0 is an empty body (medusa would wait forever for a byte).
    let resp = exchange(&ep, "POST /RPC2 HTTP/1.1\r\nContent-Length: 0\r\n\r\n").await;
    assert_eq!(resp.text(), "<echo>0</echo>");
}

#[tokio::test]
async fn oversize_body_is_413_and_closes() {
    let r = start();
    let mut c = connect(&r.unix()).await;
    let too_big = supervisor::http::MAX_REQUEST_BODY + 1;
    c.send(format!("POST /RPC2 HTTP/1.1\r\nContent-Length: {too_big}\r\n\r\npartial")).await;
    let resp = c.response().await;
    assert_error(&resp, "1.1", 413, "Request Entity Too Large");
    // Closed without a `Connection` header: medusa writes none for HTTP/1.1.
    assert_eq!(resp.header("Connection"), None);
    assert!(c.closed().await);
}

#[tokio::test]
async fn a_long_rpc_does_not_block_other_connections() {
    let r = start();
    let mut slow = connect(&r.unix()).await;
    slow.send(post("/RPC2", "slow", "")).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    for ep in [r.unix(), r.inet()] {
        let resp = exchange(&ep, post("/RPC2", "quick", "")).await;
        assert_eq!(resp.text(), "<echo>5</echo>");
    }
    r.backend.release.notify_one();
    assert_eq!(slow.response().await.text(), "<slow>4</slow>");

    // A client that leaves while its call runs costs nothing once the call ends.
    let mut gone = connect(&r.inet()).await;
    gone.send(post("/RPC2", "slow", "")).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(gone);
    r.backend.release.notify_one();
    assert_eq!(exchange(&r.inet(), post("/RPC2", "after", "")).await.text(), "<echo>5</echo>");
}

#[tokio::test]
async fn many_concurrent_clients() {
    let r = start();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let ep = if i % 2 == 0 { r.unix() } else { r.inet() };
        tasks.push(tokio::spawn(async move {
            let mut c = connect(&ep).await;
            for j in 0..3 {
                let body = "x".repeat(i + j);
                c.send(post("/RPC2", &body, "")).await;
                assert_eq!(c.response().await.text(), format!("<echo>{}</echo>", i + j));
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test]
async fn a_client_that_stops_reading_a_tail_blocks_only_itself() {
    let (r, log) = start_tail();
    let mut stalled = connect(&r.unix()).await;
    stalled.send("GET /logtail/cat HTTP/1.1\r\n\r\n").await;
    let _ = stalled.head().await;
    append(&log, &vec![b'z'; 16 * 1024 * 1024]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    assert_eq!(exchange(&r.inet(), post("/RPC2", "ping", "")).await.text(), "<echo>4</echo>");
    assert!(started.elapsed() < Duration::from_secs(1));
    drop(stalled);
}

// ---------------------------------------------------------------------------------------------
// Connections

#[tokio::test]
async fn keep_alive_serves_several_requests_on_one_connection() {
    let r = start();
    let mut c = connect(&r.inet()).await;
    c.send(post("/RPC2", "one", "")).await;
    assert_eq!(c.response().await.text(), "<echo>3</echo>");
    c.send(post("/RPC2", "second", "")).await;
    assert_eq!(c.response().await.text(), "<echo>6</echo>");
    // Pipelined: both requests in one write, answered in order.
    c.send(format!("{}GET /nope HTTP/1.1\r\n\r\n", post("/RPC2", "third", ""))).await;
    assert_eq!(c.response().await.text(), "<echo>5</echo>");
    assert_eq!(c.response().await.status, "HTTP/1.1 404 Not Found");
    // `Connection: close` closes, without saying so (medusa builds the head first).
    c.send("GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n").await;
    let resp = c.response().await;
    assert_eq!(resp.header("Connection"), None);
    assert!(c.closed().await);
}

#[tokio::test]
async fn http_1_0_and_versionless_requests() {
    let r = start();
    let mut c = connect(&r.unix()).await;
    c.send("GET /foo HTTP/1.0\r\n\r\n").await;
    let resp = c.response().await;
    assert_error(&resp, "1.0", 404, "Not Found");
    assert_eq!(resp.names(), ["Server", "Date", "Content-Length", "Content-Type"]);
    assert!(c.closed().await);

    let mut c = connect(&r.unix()).await;
    c.send("GET /foo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").await;
    let resp = c.response().await;
    assert_eq!(resp.names(), ["Server", "Date", "Content-Length", "Content-Type", "Connection"]);
    assert_eq!(resp.header("Connection"), Some("Keep-Alive"));
    c.send(post("/RPC2", "again", "").replace("HTTP/1.1", "HTTP/1.0")).await;
    assert_eq!(c.response().await.status, "HTTP/1.0 200 OK");
    assert!(c.closed().await);

    let mut c = connect(&r.unix()).await;
    c.send("GET /foo\r\n\r\n").await;
    assert_error(&c.response().await, "None", 404, "Not Found");
    assert!(c.closed().await);
}

#[tokio::test]
async fn unparseable_requests_are_dropped_and_nothing_breaks() {
    let r = start();
    for junk in [
        &b"garbage\r\n\r\n"[..],
        b"GET  / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\n continuation\r\n\r\n",
        b"GET /\xff\xfe HTTP/1.1\r\n\r\n",
        b"\r\n\r\n",
        b"GET / FTP/1.0\r\n\r\n",
    ] {
        let mut c = connect(&r.unix()).await;
        c.send(junk).await;
        assert!(c.closed().await, "{junk:?}");
    }
    // An endless head is cut off.
    let mut c = connect(&r.inet()).await;
    let mut sent_all = true;
    for _ in 0..80 {
        if c.io.write_all(&[b'x'; 1024]).await.is_err() {
            sent_all = false;
            break;
        }
    }
    assert!(!sent_all || c.closed().await);
    // Pseudo-random bytes.
    let mut seed: u64 = 0x2545F4914F6CDD1D;
    for round in 0..40 {
        let mut junk = Vec::new();
        for _ in 0..(round * 7 % 300) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let alphabet = b" \r\n:%/GETPOST1.0HTTP/RPC2logtail\xffaz";
            junk.push(alphabet[(seed % alphabet.len() as u64) as usize]);
        }
        junk.extend_from_slice(b"\r\n\r\n");
        let mut c = connect(&r.unix()).await;
        c.send(&junk).await;
        let _ = c.within(Duration::from_millis(20)).await;
    }
    let resp = exchange(&r.unix(), post("/RPC2", "still alive", "")).await;
    assert_eq!(resp.text(), "<echo>11</echo>");
}

#[tokio::test]
async fn unread_bodies_are_skipped_or_close_the_connection() {
    let r = start();
    // A body no handler wants is skipped, not misread as the next request.
    let mut c = connect(&r.unix()).await;
    c.send("GET /RPC2 HTTP/1.1\r\nContent-Length: 19\r\n\r\nGET /x HTTP/1.1\r\n\r\n").await;
    assert_eq!(c.response().await.status, "HTTP/1.1 400 Bad Request");
    c.send("POST /RPC2 HTTP/1.1\r\ncontent-length:2\r\n\r\nxx").await;
    assert_eq!(c.response().await.status, "HTTP/1.1 411 Length Required");
    c.send(post("/RPC2", "next", "")).await;
    assert_eq!(c.response().await.text(), "<echo>4</echo>");
    // A body whose end cannot be found closes the connection after the reply.
    for head in ["Transfer-Encoding: chunked", "Content-Length: abc", "Content-Length: -5"] {
        let mut c = connect(&r.unix()).await;
        c.send(format!("POST /RPC2 HTTP/1.1\r\n{head}\r\n\r\n5\r\nhello\r\n0\r\n\r\n")).await;
        let resp = c.response().await;
        assert!(resp.status.starts_with("HTTP/1.1 4") || resp.status.starts_with("HTTP/1.1 5"));
        assert!(c.closed().await, "{head}");
    }
    // A promised HTTP/1.0 keep-alive turns into `Connection: close`.
    let mut c = connect(&r.unix()).await;
    c.send("DELETE /x HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n")
        .await;
    assert_eq!(c.response().await.header("Connection"), Some("close"));
    assert!(c.closed().await);
}

#[tokio::test]
async fn access_log_lines() {
    let r = start();
    exchange(&r.unix(), "GET /foo HTTP/1.1\r\nConnection: close\r\n\r\n").await;
    exchange(&r.inet(), "GET /error-page HTTP/1.0\r\n\r\n").await;
    let logs = r.backend.logs.lock().unwrap().clone();
    let (level, line) = &logs[0];
    assert_eq!(*level, LogLevel::Trace);
    assert!(line.starts_with("localhost:0 - - ["), "{line}");
    // The same count Python logs: head (130 bytes) plus the 134-byte page.
    assert!(line.ends_with("] \"GET /foo HTTP/1.1\" 404 264"), "{line}");
    let (level, line) = &logs[1];
    assert_eq!(*level, LogLevel::Error, "{line}");
    assert!(line.starts_with("127.0.0.1:"), "{line}");
}

#[tokio::test]
async fn shutdown_ends_serve_and_idle_connections() {
    let r = start();
    let mut c = connect(&r.unix()).await;
    c.send("GET /x HTTP/1.1\r\n\r\n").await;
    c.response().await;
    r.stop.send(true).unwrap();
    tokio::time::timeout(WAIT, r.task).await.unwrap().unwrap();
    assert!(c.closed().await);
}

// ---------------------------------------------------------------------------------------------
// Auth

async fn auth_case(ep: &Endpoint, header: &str) -> Resp {
    exchange(ep, post("/RPC2", "authed", header)).await
}

fn assert_401(resp: &Resp) {
    assert_error(resp, "1.1", 401, "Unauthorized");
    assert_eq!(
        resp.names(),
        ["Server", "Date", "Connection", "WWW-Authenticate", "Content-Length", "Content-Type"]
    );
    assert_eq!(resp.header("Connection"), Some("close"));
    assert_eq!(resp.header("WWW-Authenticate"), Some("Basic realm=\"default\""));
}

#[tokio::test]
async fn basic_auth_plain_and_sha() {
    for password in ["test", SHA_OF_TEST] {
        let r = start_with(Fake::default(), Some(("user", password)));
        let ep = r.inet();
        assert_eq!(auth_case(&ep, GOOD_AUTH).await.text(), "<echo>6</echo>");
        assert_eq!(
            auth_case(&ep, "authorization: basic dXNlcjp0ZXN0\r\n").await.text(),
            "<echo>6</echo>"
        );
        assert_401(&auth_case(&ep, "").await);
        assert_401(&auth_case(&ep, "Authorization: Basic dXNlcjp3cm9uZw==\r\n").await);
        assert_401(&auth_case(&ep, "Authorization: Bearer dXNlcjp0ZXN0\r\n").await);
        assert_401(&auth_case(&ep, "Authorization:  Basic dXNlcjp0ZXN0\r\n").await);
        // Python answers 500 for these two (it cannot unpack the user:password pair).
        assert_401(&auth_case(&ep, "Authorization: Basic !!!!\r\n").await);
        assert_401(&auth_case(&ep, "Authorization: Basic dXNlcg==\r\n").await);
        // Bad padding and non-UTF-8 are 400, as in Python.
        let resp = auth_case(&ep, "Authorization: Basic abc\r\n").await;
        assert_error(&resp, "1.1", 400, "Bad Request");
        let resp = auth_case(&ep, "Authorization: Basic //79\r\n").await;
        assert_error(&resp, "1.1", 400, "Bad Request");
        // Every handler is behind auth, the 404 default included.
        assert_401(&exchange(&ep, "GET /nope HTTP/1.1\r\n\r\n").await);
        let resp = exchange(&ep, format!("GET /nope HTTP/1.1\r\n{GOOD_AUTH}\r\n")).await;
        assert_eq!(resp.status, "HTTP/1.1 404 Not Found");
        // The unix server has no auth.
        assert_eq!(auth_case(&r.unix(), "").await.status, "HTTP/1.1 200 OK");
    }
}

#[tokio::test]
async fn a_401_closes_even_a_keep_alive_connection() {
    let r = start_with(Fake::default(), Some(("user", "test")));
    let mut c = connect(&r.inet()).await;
    c.send("GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").await;
    let resp = c.response().await;
    assert_eq!(resp.status, "HTTP/1.0 401 Unauthorized");
    assert_eq!(resp.header("Connection"), Some("close"));
    assert!(c.closed().await);
}

#[tokio::test]
async fn empty_username_disables_auth() {
    let r = start_with(Fake::default(), Some(("", "secret")));
    assert_eq!(auth_case(&r.inet(), "").await.status, "HTTP/1.1 200 OK");
}

// ---------------------------------------------------------------------------------------------
// Logtail

fn write_file(path: &Path, data: &[u8]) {
    std::fs::write(path, data).unwrap();
}

fn append(path: &Path, data: &[u8]) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(data).unwrap();
}

fn tail_backend(dir: &Path) -> Fake {
    let mut fake = Fake::default();
    let out = dir.join("cat.log").to_str().unwrap().to_string();
    let err = dir.join("cat-err.log").to_str().unwrap().to_string();
    fake.logfiles.insert(("cat".into(), "stdout".into()), out);
    fake.logfiles.insert(("cat".into(), "stderr".into()), err);
    fake.logfiles.insert(
        ("ghost".into(), "stdout".into()),
        dir.join("missing.log").to_str().unwrap().into(),
    );
    fake.main_log = Some(dir.join("main.log").to_str().unwrap().to_string());
    fake
}

fn start_tail() -> (Running, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let fake = tail_backend(dir.path());
    let log = dir.path().join("cat.log");
    let content: Vec<u8> = (0..3000u32).map(|i| b'a' + (i % 26) as u8).collect();
    write_file(&log, &content);
    write_file(&dir.path().join("main.log"), b"main log line\n");
    (start_in(dir, fake, None), log)
}

#[tokio::test]
async fn logtail_streams_from_1024_back_and_follows() {
    let (r, log) = start_tail();
    let mut c = connect(&r.unix()).await;
    c.send("GET /logtail/cat HTTP/1.1\r\n\r\n").await;
    let (status, headers) = c.head().await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    let names: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Server",
            "Date",
            "Last-Modified",
            "Content-Type",
            "X-Accel-Buffering",
            "Transfer-Encoding"
        ]
    );
    let value = |n: &str| headers.iter().find(|(k, _)| k == n).unwrap().1.clone();
    assert_eq!(value("Content-Type"), "text/plain;charset=utf-8");
    assert_eq!(value("X-Accel-Buffering"), "no");
    assert_eq!(value("Transfer-Encoding"), "chunked");
    assert!(value("Last-Modified").ends_with(" GMT"));
    let content = std::fs::read(&log).unwrap();
    assert_eq!(c.chunk().await, content[3000 - 1024..]);

    append(&log, b"appended line\n");
    assert_eq!(c.chunk().await, b"appended line\n");

    // Truncation: the message, then the file from its start.
    std::fs::OpenOptions::new().write(true).open(&log).unwrap().set_len(0).unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(c.chunk().await, b"==> File truncated <==\n");
    append(&log, b"after truncation\n");
    assert_eq!(c.chunk().await, b"after truncation\n");

    // Rotation: rename, new file at the path, streamed from its start.
    std::fs::rename(&log, r.dir().join("cat.log.1")).unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    write_file(&log, b"rotated\n");
    assert_eq!(c.chunk().await, b"rotated\n");
}

#[tokio::test]
async fn logtail_names_channels_and_404s() {
    let (r, log) = start_tail();
    let ep = r.unix();
    write_file(&r.dir().join("cat-err.log"), b"to stderr\n");
    for (uri, expect) in [
        ("/logtail/cat/stderr", Some(&b"to stderr\n"[..])),
        ("/logtail/cat:cat/stderr", Some(b"to stderr\n")),
        ("/logtail/c%61t/stderr?x=1", Some(b"to stderr\n")),
        // Not a /logtail URI at all: the default handler's 404.
        ("//logtail/cat/stderr", None),
        ("/logtail/nosuch", None),
        ("/logtail/cat/stdin", None),
        ("/logtail/cat/stdout/extra", None),
        ("/logtail/cat/", None),
        ("/logtail/ghost", None),
        ("/logtail", None),
        ("/logtailcat", None),
    ] {
        let mut c = connect(&ep).await;
        c.send(format!("GET {uri} HTTP/1.1\r\n\r\n")).await;
        let (status, _) = c.head().await;
        match expect {
            Some(data) => {
                assert_eq!(status, "HTTP/1.1 200 OK", "{uri}");
                assert_eq!(c.chunk().await, data, "{uri}");
            }
            None => assert_eq!(status, "HTTP/1.1 404 Not Found", "{uri}"),
        }
    }
    assert_error(
        &exchange(&ep, "POST /logtail/cat HTTP/1.1\r\n\r\n").await,
        "1.1",
        400,
        "Bad Request",
    );
    assert_error(
        &exchange(&ep, "HEAD /mainlogtail HTTP/1.1\r\n\r\n").await,
        "1.1",
        400,
        "Bad Request",
    );
    drop(log);
}

#[tokio::test]
async fn mainlogtail_and_http_1_0_streams() {
    let (r, log) = start_tail();
    let mut c = connect(&r.unix()).await;
    c.send("GET /mainlogtail HTTP/1.1\r\n\r\n").await;
    let (_, headers) = c.head().await;
    let names: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Server", "Date", "Last-Modified", "Content-Type", "Transfer-Encoding"]);
    assert_eq!(c.chunk().await, b"main log line\n");

    // HTTP/1.0 gets the bytes at once, unframed (medusa holds them until 64 KiB).
    let mut c = connect(&r.inet()).await;
    c.send("GET /logtail/cat HTTP/1.0\r\n\r\n").await;
    let (status, headers) = c.head().await;
    assert_eq!(status, "HTTP/1.0 200 OK");
    assert!(headers.iter().all(|(n, _)| n != "Transfer-Encoding" && n != "Connection"));
    assert_eq!(c.exact(1024).await.len(), 1024);
    append(&log, b"live\n");
    assert_eq!(c.exact(5).await, b"live\n");

    let r2 = start_with(Fake { main_log: None, ..Fake::default() }, None);
    let resp = exchange(&r2.unix(), "GET /mainlogtail HTTP/1.1\r\n\r\n").await;
    assert_error(&resp, "1.1", 404, "Not Found");
}

// ---------------------------------------------------------------------------------------------
// Web hook and default handling

#[tokio::test]
async fn default_handling_without_a_web_ui() {
    let r = start();
    let ep = r.unix();
    let resp = exchange(&ep, "GET /ok.html HTTP/1.1\r\n\r\n").await;
    assert_eq!(resp.status, "HTTP/1.1 200 OK");
    assert_eq!(resp.names(), ["Server", "Date", "Content-Type", "Content-Length"]);
    assert_eq!((resp.header("Content-Type"), resp.text().as_str()), (Some("text/plain"), "OK"));
    let resp = exchange(&ep, "POST /ok.html HTTP/1.1\r\n\r\n").await;
    assert_error(&resp, "1.1", 411, "Length Required");
    assert_error(&exchange(&ep, "DELETE /x HTTP/1.1\r\n\r\n").await, "1.1", 400, "Bad Request");
    assert_error(&exchange(&ep, "HEAD /x HTTP/1.1\r\n\r\n").await, "1.1", 404, "Not Found");
    assert_error(&exchange(&ep, "GET / HTTP/1.1\r\n\r\n").await, "1.1", 404, "Not Found");
}

#[tokio::test]
async fn web_pages_come_from_the_backend() {
    let fake = Fake { web_pages: true, ..Fake::default() };
    let r = start_with(fake, None);
    let resp = exchange(&r.unix(), "GET /index.html?a=%41 HTTP/1.1\r\n\r\n").await;
    assert_eq!(resp.status, "HTTP/1.1 200 OK");
    assert_eq!(resp.names(), ["Server", "Date", "Content-Type", "Pragma", "Content-Length"]);
    assert_eq!(resp.text(), "GET /index.html?a=%41 0");
    let resp = exchange(&r.unix(), post("/index.html", "action=x", "")).await;
    assert_eq!(resp.text(), "POST /index.html 8");
}

// ---------------------------------------------------------------------------------------------
// Binding

fn bind_one(config: HttpServerConfig) -> Result<HttpServers, HttpError> {
    HttpServers::bind(&[config])
}

#[tokio::test]
async fn stale_socket_is_replaced_and_a_live_one_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sock");
    // A socket file nobody listens on (what a crash leaves behind).
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    let first = bind_one(unix(&path)).unwrap();
    let backend = Arc::new(Fake::default());
    let (stop, rx) = watch::channel(false);
    let task = tokio::spawn(first.serve(backend, rx));

    // A second supervisord on the same path finds the first one alive. Binding blocks (it
    // probes the live socket), so it runs off the runtime's thread.
    let again = unix(&path);
    let err = tokio::task::spawn_blocking(move || bind_one(again)).await.unwrap().unwrap_err();
    assert_eq!(err, HttpError::AddressInUse);
    assert!(err.to_string().starts_with("Another program is already listening on a port"));

    stop.send(true).unwrap();
    task.await.unwrap();
    assert!(path.exists());
    first.close();
    assert!(!path.exists());
}

#[tokio::test]
async fn inet_port_in_use_refuses() {
    let r = start();
    let Endpoint::Inet(addr) = r.inet() else { unreachable!() };
    let mut config = inet(None, None);
    config.address = ServerAddress::Inet { host: "127.0.0.1".into(), port: addr.port() };
    assert_eq!(bind_one(config).unwrap_err(), HttpError::AddressInUse);
}

#[test]
fn a_failed_bind_unlinks_the_sockets_already_made() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("a.sock");
    let configs = [unix(&good), unix(&dir.path().join("no/such/dir/b.sock"))];
    let err = HttpServers::bind(&configs).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Cannot open an HTTP server: socket.error reported errno.ENOENT (2)"
    );
    assert!(!good.exists());
}

#[test]
fn startup_log_is_supervisors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sock");
    let mut noauth = inet(None, None);
    noauth.section = "inet_http_server:noauth".into();
    let servers = HttpServers::bind(&[inet(Some("u"), Some("p")), noauth, unix(&path)]).unwrap();
    let log = servers.startup_log(&["supervisor"]);
    let texts: Vec<&str> = log.iter().map(|(_, t)| t.as_str()).collect();
    assert!(texts[0].starts_with("127.0.0.1:Medusa (V1.12) started at "), "{texts:?}");
    assert!(texts[0].contains("\n\tHostname: ") && texts[0].ends_with("\n\tPort:0"));
    assert_eq!(log[1], (LogLevel::Info, "RPC interface 'supervisor' initialized".to_string()));
    assert_eq!(
        log[4],
        (
            LogLevel::Critical,
            "Server 'inet_http_server:noauth' running without any HTTP authentication checking"
                .to_string()
        )
    );
    let p = path.to_str().unwrap();
    assert!(texts[5].starts_with(&format!("{p}:Medusa (V1.12) started at ")));
    assert!(texts[5].ends_with(&format!("\n\tHostname: <unix domain socket>\n\tPort:{p}")));
    assert_eq!(log.len(), 8);
    servers.close();
}

// ---------------------------------------------------------------------------------------------
// The Rust half of compat-tests/test_http_raw.py

/// With `SUPERVISOR_HTTP_COMPAT_DIR` set, serve that directory's fixture (the same logs the
/// Python supervisord is configured with) on a unix socket and two inet ports, print the
/// endpoints as one line, and run until stdin closes. Without it, do nothing.
#[test]
fn compat_server() {
    let Ok(dir) = std::env::var("SUPERVISOR_HTTP_COMPAT_DIR") else { return };
    let dir = PathBuf::from(dir);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let mut fake = Fake::default();
        fake.logfiles.insert(
            ("cat".into(), "stdout".into()),
            dir.join("cat.log").to_str().unwrap().to_string(),
        );
        fake.main_log = Some(dir.join("main.log").to_str().unwrap().to_string());
        let mut noauth = inet(None, None);
        noauth.section = "inet_http_server:noauth".into();
        let configs = [unix(&dir.join("rust.sock")), inet(Some("user"), Some(SHA_OF_TEST)), noauth];
        let servers = HttpServers::bind(&configs).unwrap();
        let ports: Vec<String> = servers
            .endpoints()
            .iter()
            .filter_map(|e| match e {
                Endpoint::Inet(a) => Some(a.port().to_string()),
                Endpoint::Unix(_) => None,
            })
            .collect();
        println!("COMPAT-SERVER {}", ports.join(" "));
        let (stop, rx) = watch::channel(false);
        let task = tokio::spawn(servers.serve(Arc::new(fake), rx));
        tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
        })
        .await
        .unwrap();
        stop.send(true).unwrap();
        task.await.unwrap();
        servers.close();
    });
}
