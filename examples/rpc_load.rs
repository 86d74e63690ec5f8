//! The benchmark's XML-RPC load generator: N keep-alive clients, one thread each, posting one
//! method call over and over to a supervisord on a unix socket or TCP, then one JSON line with
//! the request count, rate and latency percentiles.
//!
//! It is a compiled client so that it is not the bottleneck: the request bytes are built once,
//! each reply is read by its `Content-Length` into a reused buffer, and nothing else happens per
//! request. `scripts/bench` builds it in release mode and runs it against both daemons.
//!
//! ```text
//! rpc_load (--unix PATH | --tcp HOST:PORT) --method NAME [--clients N] [--seconds S]
//! rpc_load --serve-unix PATH --reply-bytes N
//! ```
//!
//! `--serve-unix` is the client's own ceiling: a server that answers every request at once
//! with a canned reply of N bytes (one thread per connection, no parsing beyond the framing),
//! so a run against it shows how many requests per second this client can drive here.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

enum Target {
    Unix(String),
    Tcp(String),
}

struct Options {
    target: Target,
    method: String,
    clients: usize,
    seconds: f64,
}

/// `--serve-unix PATH --reply-bytes N`: answer every request with an N-byte reply, forever.
fn serve(path: &str, reply_bytes: usize) -> io::Result<()> {
    let _ = std::fs::remove_file(path);
    let listener = std::os::unix::net::UnixListener::bind(path)?;
    let filler = "x".repeat(reply_bytes.saturating_sub(58));
    let body = format!("<?xml version='1.0'?>\n<methodResponse>{filler}</methodResponse>\n");
    let mut reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    reply.extend_from_slice(body.as_bytes());
    let reply: Arc<[u8]> = reply.into();
    for stream in listener.incoming() {
        let (mut stream, reply) = (stream?, reply.clone());
        std::thread::spawn(move || {
            let mut buf = Vec::with_capacity(8192);
            let mut chunk = [0u8; 8192];
            loop {
                // A request is its head plus the Content-Length bytes after it.
                let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                    continue;
                };
                let head = String::from_utf8_lossy(&buf[..at]).to_ascii_lowercase();
                let length = head
                    .split("content-length:")
                    .nth(1)
                    .and_then(|rest| rest.lines().next())
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                while buf.len() < at + 4 + length {
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                buf.drain(..at + 4 + length);
                if stream.write_all(&reply).is_err() {
                    return;
                }
            }
        });
    }
    Ok(())
}

fn parse_options() -> Result<Options, String> {
    let mut target = None;
    let mut method = None;
    let mut clients = 1;
    let mut seconds = 3.0;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--unix" => target = Some(Target::Unix(value()?)),
            "--tcp" => target = Some(Target::Tcp(value()?)),
            "--method" => method = Some(value()?),
            "--clients" => clients = value()?.parse().map_err(|e| format!("--clients: {e}"))?,
            "--seconds" => seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(Options {
        target: target.ok_or("--unix or --tcp is required")?,
        method: method.ok_or("--method is required")?,
        clients: clients.max(1),
        seconds,
    })
}

trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

fn connect(target: &Target) -> io::Result<Box<dyn Stream>> {
    Ok(match target {
        Target::Unix(path) => Box::new(UnixStream::connect(path)?),
        Target::Tcp(addr) => {
            let stream = TcpStream::connect(addr)?;
            stream.set_nodelay(true)?;
            Box::new(stream)
        }
    })
}

fn request_bytes(method: &str) -> Vec<u8> {
    let body = format!(
        "<?xml version='1.0'?>\n<methodCall>\n<methodName>{method}</methodName>\n<params>\n</params>\n</methodCall>\n"
    );
    let mut out = format!(
        "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip\r\n\
         Content-Type: text/xml\r\nUser-Agent: rpc_load\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

/// Reads one reply into `buf` (which may already hold bytes of it) and returns whether it was a
/// `200` carrying a `<methodResponse>`. Leftover bytes of a following reply stay in `buf`.
fn read_reply(stream: &mut dyn Stream, buf: &mut Vec<u8>) -> io::Result<bool> {
    let mut chunk = [0u8; 16384];
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let ok_status = head.split(' ').nth(1) == Some("200");
    let length = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no Content-Length"))?;
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = &buf[head_end..head_end + length];
    let ok = ok_status && body.windows(16).any(|w| w == b"<methodResponse>");
    buf.drain(..head_end + length);
    Ok(ok)
}

struct ClientResult {
    latencies_ns: Vec<u64>,
    errors: u64,
}

fn run_client(target: &Target, request: &[u8], stop: &AtomicBool) -> io::Result<ClientResult> {
    let mut stream = connect(target)?;
    let mut buf = Vec::with_capacity(65536);
    let mut result = ClientResult { latencies_ns: Vec::with_capacity(1 << 20), errors: 0 };
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        stream.write_all(request)?;
        let ok = read_reply(stream.as_mut(), &mut buf)?;
        result.latencies_ns.push(u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX));
        if !ok {
            result.errors += 1;
        }
    }
    Ok(result)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--serve-unix") {
        let path = args.get(2).cloned().unwrap_or_default();
        let bytes = match args.get(3..5) {
            Some([flag, n]) if flag == "--reply-bytes" => n.parse().unwrap_or(500),
            _ => 500,
        };
        return match serve(&path, bytes) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("rpc_load: serve: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let options = match parse_options() {
        Ok(options) => Arc::new(options),
        Err(message) => {
            eprintln!("rpc_load: {message}");
            return ExitCode::from(2);
        }
    };
    let request: Arc<[u8]> = request_bytes(&options.method).into();
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..options.clients)
        .map(|_| {
            let (options, request, stop) = (options.clone(), request.clone(), stop.clone());
            std::thread::spawn(move || run_client(&options.target, &request, &stop))
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(options.seconds));
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    let mut errors = 0;
    for worker in workers {
        match worker.join() {
            Ok(Ok(result)) => {
                latencies.extend(result.latencies_ns);
                errors += result.errors;
            }
            Ok(Err(e)) => {
                eprintln!("rpc_load: client failed: {e}");
                return ExitCode::FAILURE;
            }
            Err(_) => return ExitCode::FAILURE,
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    println!(
        "{{\"requests\": {}, \"errors\": {}, \"seconds\": {:.3}, \"rps\": {:.1}, \"p50_us\": {:.1}, \"p99_us\": {:.1}}}",
        latencies.len(),
        errors,
        elapsed,
        latencies.len() as f64 / elapsed,
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
    );
    if errors > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
