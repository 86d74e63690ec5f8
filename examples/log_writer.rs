//! The benchmark's log writer and checker: writes a deterministic, position-dependent byte
//! stream to stdout as fast as it can, and verifies that captured log files hold an intact
//! suffix of that stream (no byte lost, duplicated or reordered).
//!
//! ```text
//! log_writer write BYTES             # exactly BYTES bytes to stdout, in 1 MiB write(2) calls
//! log_writer verify TOTAL FILE...    # FILEs concatenated == the last len bytes of a TOTAL stream
//! ```
//!
//! The stream is a run of 4096-byte blocks. Block `i` starts with `i` as a 15-digit decimal
//! number and a newline; the other 4080 bytes are 51 fixed 80-byte text lines, each different
//! from the others. A dropped, duplicated or moved range of any length therefore shows as a
//! mismatch (a header lands where it should not), unless it is at the very start of a suffix.
//!
//! `write` fills a 1 MiB buffer once and patches only the 256 block headers before each write,
//! so it generates far faster than any pipe drains. `verify` streams: it reads each file in
//! 1 MiB pieces and compares them with the same stream generated at that offset, then prints
//! one JSON line `{"ok": .., "len": .., "expected_len_max": .., "first_mismatch": ..}` (the
//! offset is into the concatenation, or null) and exits 0 when ok, 1 otherwise. Errors (a
//! file that cannot be read, a failed write) go to stderr with exit status 2.
//! `scripts/bench` builds it in release mode and uses it for the capture rows.

use std::error::Error;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::process::ExitCode;

/// Bytes per block; every block starts with its index.
const BLOCK: usize = 4096;
/// The index header: 15 decimal digits and a newline.
const HEADER: usize = 16;
/// Bytes per write(2), like `dd bs=1M`.
const CHUNK: usize = 1 << 20;
/// The filler lines after the header.
const LINE: usize = 80;

/// One block with a zero header: the filler every block shares.
fn template() -> Vec<u8> {
    let mut block = Vec::with_capacity(BLOCK);
    block.extend_from_slice(&header(0));
    for line in 0..(BLOCK - HEADER) / LINE {
        block.extend_from_slice(format!("{line:02} ").as_bytes());
        block.extend((0..LINE - 4).map(|k| b'a' + ((line + k) % 26) as u8));
        block.push(b'\n');
    }
    debug_assert_eq!(block.len(), BLOCK);
    block
}

fn header(index: u64) -> [u8; HEADER] {
    let mut out = [b'0'; HEADER];
    out[HEADER - 1] = b'\n';
    let mut n = index;
    let mut at = HEADER - 1;
    while n > 0 && at > 0 {
        at -= 1;
        out[at] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out
}

/// Generates the stream at any offset.
struct Stream {
    template: Vec<u8>,
}

impl Stream {
    fn new() -> Self {
        Stream { template: template() }
    }

    /// Fills `buf` with stream bytes `[offset, offset + buf.len())`.
    fn fill(&self, offset: u64, buf: &mut [u8]) {
        let mut pos = 0;
        while pos < buf.len() {
            let at = offset + pos as u64;
            let block = at / BLOCK as u64;
            let within = (at % BLOCK as u64) as usize;
            let n = (BLOCK - within).min(buf.len() - pos);
            buf[pos..pos + n].copy_from_slice(&self.template[within..within + n]);
            if within < HEADER {
                let end = HEADER.min(within + n);
                buf[pos..pos + end - within].copy_from_slice(&header(block)[within..end]);
            }
            pos += n;
        }
    }

    /// Like `fill` for a block-aligned offset whose buffer already holds the stream at some
    /// other block-aligned offset: only the headers change.
    fn patch_headers(&self, offset: u64, buf: &mut [u8]) {
        debug_assert_eq!(offset % BLOCK as u64, 0);
        let first = offset / BLOCK as u64;
        for (i, block) in buf.chunks_mut(BLOCK).enumerate() {
            let n = block.len().min(HEADER);
            block[..n].copy_from_slice(&header(first + i as u64)[..n]);
        }
    }
}

/// Writes stream bytes `[0, total)` to `out` in `CHUNK`-sized writes.
fn write_stream(out: &mut impl Write, total: u64) -> io::Result<()> {
    let stream = Stream::new();
    let mut buf = vec![0u8; CHUNK];
    stream.fill(0, &mut buf);
    let mut offset = 0u64;
    while offset < total {
        let n = (total - offset).min(CHUNK as u64) as usize;
        stream.patch_headers(offset, &mut buf[..n]);
        // write_all retries on EINTR and continues after partial writes.
        out.write_all(&buf[..n])?;
        offset += n as u64;
    }
    out.flush()
}

#[derive(Debug, PartialEq)]
struct Verdict {
    ok: bool,
    len: u64,
    first_mismatch: Option<u64>,
}

/// Checks that `readers`, concatenated (`len` bytes in all), are the last `len` bytes of a
/// `total`-byte stream. When `len > total` they are compared with the whole stream, and the
/// first mismatch is at most `total`.
fn verify_readers(total: u64, len: u64, readers: &mut [&mut dyn Read]) -> io::Result<Verdict> {
    let stream = Stream::new();
    let start = total.saturating_sub(len);
    let mut got = vec![0u8; CHUNK];
    let mut want = vec![0u8; CHUNK];
    let mut pos = 0u64;
    let mut first_mismatch = None;
    for reader in readers.iter_mut() {
        loop {
            let n = match reader.read(&mut got) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if first_mismatch.is_none() {
                let at = start + pos;
                let valid = (total.saturating_sub(at)).min(n as u64) as usize;
                stream.fill(at, &mut want[..valid]);
                if got[..valid] != want[..valid] {
                    let i = (0..valid).find(|&i| got[i] != want[i]).unwrap_or(0);
                    first_mismatch = Some(pos + i as u64);
                } else if valid < n {
                    first_mismatch = Some(pos + valid as u64);
                }
            }
            pos += n as u64;
        }
    }
    if pos != len && first_mismatch.is_none() {
        // The files changed while being read: report where the counts part.
        first_mismatch = Some(pos.min(len));
    }
    Ok(Verdict {
        ok: first_mismatch.is_none() && pos == len && len <= total,
        len: pos,
        first_mismatch,
    })
}

fn verify_files(total: u64, paths: &[String]) -> Result<Verdict, Box<dyn Error>> {
    let mut files = Vec::with_capacity(paths.len());
    let mut len = 0;
    for path in paths {
        let file = File::open(path).map_err(|e| format!("{path}: {e}"))?;
        len += file.metadata().map_err(|e| format!("{path}: {e}"))?.len();
        files.push(file);
    }
    let mut readers: Vec<&mut dyn Read> = files.iter_mut().map(|f| f as &mut dyn Read).collect();
    Ok(verify_readers(total, len, &mut readers)?)
}

fn parse_bytes(what: &str, value: Option<&String>) -> Result<u64, Box<dyn Error>> {
    let value = value.ok_or_else(|| format!("{what} is required"))?;
    Ok(value.parse().map_err(|e| format!("{what} {value:?}: {e}"))?)
}

const USAGE: &str = "usage: log_writer write BYTES | log_writer verify TOTAL FILE...";

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("log_writer: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<ExitCode, Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("write") if args.len() == 2 => {
            let total = parse_bytes("BYTES", args.get(1))?;
            // A File on a duplicate of fd 1: plain write(2) calls, no LineWriter in between.
            let mut out = File::from(io::stdout().as_fd().try_clone_to_owned()?);
            write_stream(&mut out, total)?;
            Ok(ExitCode::SUCCESS)
        }
        Some("verify") if args.len() >= 3 => {
            let total = parse_bytes("TOTAL", args.get(1))?;
            let verdict = verify_files(total, &args[2..])?;
            let mismatch =
                verdict.first_mismatch.map_or_else(|| "null".to_string(), |m| m.to_string());
            println!(
                "{{\"ok\": {}, \"len\": {}, \"expected_len_max\": {total}, \"first_mismatch\": {mismatch}}}",
                verdict.ok, verdict.len
            );
            Ok(if verdict.ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        _ => Err(USAGE.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream_bytes(total: u64) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        write_stream(&mut out, total)?;
        Ok(out)
    }

    fn verify_bytes(total: u64, parts: &[&[u8]]) -> io::Result<Verdict> {
        let len = parts.iter().map(|p| p.len() as u64).sum();
        let mut readers: Vec<&[u8]> = parts.to_vec();
        let mut dyns: Vec<&mut dyn Read> = readers.iter_mut().map(|r| r as &mut dyn Read).collect();
        verify_readers(total, len, &mut dyns)
    }

    #[test]
    fn blocks_start_with_their_index_and_share_the_filler() -> io::Result<()> {
        let total = 3 * CHUNK as u64 + 12345;
        let data = stream_bytes(total)?;
        assert_eq!(data.len() as u64, total);
        let filler = &template()[HEADER..];
        for (i, block) in data.chunks(BLOCK).enumerate() {
            let head = format!("{i:015}\n");
            let n = block.len().min(HEADER);
            assert_eq!(&block[..n], &head.as_bytes()[..n], "block {i}");
            if block.len() > HEADER {
                assert_eq!(&block[HEADER..], &filler[..block.len() - HEADER], "block {i}");
            }
        }
        let lines: std::collections::HashSet<_> = filler.chunks(LINE).collect();
        assert_eq!(lines.len(), (BLOCK - HEADER) / LINE, "filler lines differ");
        Ok(())
    }

    #[test]
    fn fill_at_any_offset_matches_the_written_stream() -> io::Result<()> {
        let data = stream_bytes(2 * CHUNK as u64 + 777)?;
        let stream = Stream::new();
        for (offset, len) in [(0, 10), (5, 4096), (4090, 20), (4096, 16), (12345, 70000)] {
            let mut buf = vec![0u8; len];
            stream.fill(offset as u64, &mut buf);
            assert_eq!(buf, &data[offset..offset + len], "offset {offset}");
        }
        Ok(())
    }

    #[test]
    fn verify_accepts_the_whole_stream_and_any_suffix_split_anywhere() -> io::Result<()> {
        let total = 2 * CHUNK as u64 + 4321;
        let data = stream_bytes(total)?;
        let ok = |len| Verdict { ok: true, len, first_mismatch: None };
        assert_eq!(verify_bytes(total, &[&data])?, ok(total));
        let tail = &data[1_000_003..];
        let (a, rest) = tail.split_at(500_000);
        let (b, c) = rest.split_at(1);
        assert_eq!(verify_bytes(total, &[a, b, c])?, ok(tail.len() as u64));
        assert_eq!(verify_bytes(total, &[])?, ok(0));
        Ok(())
    }

    #[test]
    fn verify_detects_a_dropped_block() -> io::Result<()> {
        let total = CHUNK as u64;
        let data = stream_bytes(total)?;
        let at = 100 * BLOCK;
        let verdict = verify_bytes(total, &[&data[..at], &data[at + BLOCK..]])?;
        assert!(!verdict.ok);
        // Judged as a suffix, the shortened stream mismatches in its very first header.
        assert!(verdict.first_mismatch.is_some_and(|m| m < HEADER as u64));
        // A dropped line inside a block is caught too.
        let verdict = verify_bytes(total, &[&data[..at + 100], &data[at + 100 + LINE..]])?;
        assert!(!verdict.ok);
        Ok(())
    }

    #[test]
    fn verify_detects_a_duplicated_block() -> io::Result<()> {
        let total = CHUNK as u64;
        let data = stream_bytes(total)?;
        let at = 100 * BLOCK;
        let dup = &data[at..at + BLOCK];
        let verdict = verify_bytes(total, &[&data[..at + BLOCK], dup, &data[at + BLOCK..]])?;
        assert!(!verdict.ok);
        assert_eq!(verdict.len, total + BLOCK as u64);
        let dup_at = (at + BLOCK) as u64;
        assert!(
            verdict.first_mismatch.is_some_and(|m| (dup_at..dup_at + HEADER as u64).contains(&m))
        );
        // The same within a suffix that is shorter than the stream.
        let tail = &data[CHUNK / 2..];
        let verdict = verify_bytes(total, &[&tail[..4 * BLOCK], &tail[3 * BLOCK..]])?;
        assert!(!verdict.ok);
        Ok(())
    }

    #[test]
    fn verify_reads_files_in_the_order_given() -> Result<(), Box<dyn Error>> {
        let total = 3 * BLOCK as u64;
        let data = stream_bytes(total)?;
        let dir = std::env::temp_dir().join(format!("log_writer-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let older = dir.join("cap.log.1");
        let newer = dir.join("cap.log");
        std::fs::write(&older, &data[1000..5000])?;
        std::fs::write(&newer, &data[5000..])?;
        let paths = [older.display().to_string(), newer.display().to_string()];
        let good = verify_files(total, &paths);
        let swapped = verify_files(total, &[paths[1].clone(), paths[0].clone()]);
        std::fs::remove_dir_all(&dir)?;
        assert!(good?.ok);
        assert!(!swapped?.ok);
        Ok(())
    }
}
