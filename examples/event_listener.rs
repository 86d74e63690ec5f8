//! The benchmark's event listener: speaks supervisor's event listener protocol on stdin/stdout
//! as fast as it can and records what it received, for the `events-*` rows of `scripts/bench`.
//!
//! ```text
//! event_listener count N OUT [GATE]   # events-rate: report the first N events into OUT
//! event_listener log OUT              # events-latency: one line per event appended to OUT
//! ```
//!
//! Both modes answer every event with `RESULT 2\nOK` and the next `READY\n` in one write.
//!
//! `count` first opens GATE for reading when given (a FIFO: the open blocks until the bench
//! opens it for writing, so the daemon can queue events before the first `READY`), notes that
//! moment as `start`, then counts events. At the Nth, and at every one after it, it replaces
//! OUT (written to `OUT.tmp`, then renamed) with one JSON object: `events`, `start`, `first`
//! and `last` (receive times of the first and latest event, Unix seconds from
//! `CLOCK_REALTIME`), the first `serial`/`poolserial`, the number of `serial_gaps` and
//! `pool_gaps` (an event whose serial is not the previous one plus 1), and `names` (events
//! whose `eventname` differed from the first one's).
//!
//! `log` appends `UNIX_TIME EVENTNAME PAYLOAD` (newlines in the payload shown as spaces) to
//! OUT for every event, right after reading it and before answering, then flushes the line.
//!
//! Exits 0 at end of input; a malformed header or an I/O error goes to stderr (which the daemon
//! captures) with exit status 2.

use std::error::Error;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

/// What the listener answers after each event (the next READY included).
const ANSWER: &[u8] = b"RESULT 2\nOKREADY\n";

/// Unix time in seconds, from the same clock as Python's `time.time()`.
fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// One event: its header tokens and payload.
struct Event {
    name: String,
    serial: i64,
    pool_serial: i64,
    payload: Vec<u8>,
}

/// Reads the next event, or `None` at end of input.
fn read_event(
    input: &mut impl BufRead,
    line: &mut String,
) -> Result<Option<Event>, Box<dyn Error>> {
    line.clear();
    if input.read_line(line)? == 0 {
        return Ok(None);
    }
    let (mut name, mut serial, mut pool_serial, mut len) = (None, None, None, None);
    for token in line.split_whitespace() {
        let (key, value) = token.split_once(':').ok_or_else(|| format!("bad token {token:?}"))?;
        match key {
            "eventname" => name = Some(value.to_string()),
            "serial" => serial = Some(value.parse::<i64>()?),
            "poolserial" => pool_serial = Some(value.parse::<i64>()?),
            "len" => len = Some(value.parse::<usize>()?),
            _ => {}
        }
    }
    let bad = || format!("incomplete header {:?}", line.trim_end());
    let mut payload = vec![0; len.ok_or_else(bad)?];
    input.read_exact(&mut payload)?;
    Ok(Some(Event {
        name: name.ok_or_else(bad)?,
        serial: serial.ok_or_else(bad)?,
        pool_serial: pool_serial.ok_or_else(bad)?,
        payload,
    }))
}

/// The running tally of the `count` mode.
struct Tally {
    events: u64,
    start: f64,
    first: f64,
    last: f64,
    first_name: String,
    first_serial: i64,
    first_pool_serial: i64,
    serial: i64,
    pool_serial: i64,
    serial_gaps: u64,
    pool_gaps: u64,
    names: u64,
}

impl Tally {
    fn add(&mut self, event: &Event, at: f64) {
        if self.events == 0 {
            self.first = at;
            self.first_name.clone_from(&event.name);
            self.first_serial = event.serial;
            self.first_pool_serial = event.pool_serial;
        } else {
            self.serial_gaps += u64::from(event.serial != self.serial.wrapping_add(1));
            self.pool_gaps += u64::from(event.pool_serial != self.pool_serial.wrapping_add(1));
            self.names += u64::from(event.name != self.first_name);
        }
        self.events += 1;
        self.last = at;
        self.serial = event.serial;
        self.pool_serial = event.pool_serial;
    }

    fn write(&self, out: &str) -> io::Result<()> {
        let json = format!(
            "{{\"events\": {}, \"start\": {:.6}, \"first\": {:.6}, \"last\": {:.6}, \
             \"serial\": {}, \"poolserial\": {}, \"serial_gaps\": {}, \"pool_gaps\": {}, \
             \"names\": {}}}\n",
            self.events,
            self.start,
            self.first,
            self.last,
            self.first_serial,
            self.first_pool_serial,
            self.serial_gaps,
            self.pool_gaps,
            self.names
        );
        let tmp = format!("{out}.tmp");
        fs::write(&tmp, json)?;
        fs::rename(tmp, out)
    }
}

fn count(n: u64, out: &str, gate: Option<&str>) -> Result<(), Box<dyn Error>> {
    if let Some(gate) = gate {
        File::open(gate)?;
    }
    let mut tally = Tally {
        events: 0,
        start: now(),
        first: 0.0,
        last: 0.0,
        first_name: String::new(),
        first_serial: -1,
        first_pool_serial: -1,
        serial: -1,
        pool_serial: -1,
        serial_gaps: 0,
        pool_gaps: 0,
        names: 0,
    };
    serve(|event| {
        tally.add(event, now());
        if tally.events >= n {
            tally.write(out)?;
        }
        Ok(())
    })
}

fn log(out: &str) -> Result<(), Box<dyn Error>> {
    let mut file = OpenOptions::new().create(true).append(true).open(out)?;
    serve(|event| {
        let at = now();
        let payload = String::from_utf8_lossy(&event.payload).replace('\n', " ");
        file.write_all(format!("{at:.6} {} {}\n", event.name, payload.trim_end()).as_bytes())?;
        Ok(())
    })
}

/// The protocol loop: READY, then for every event `handle` and the answer.
fn serve(mut handle: impl FnMut(&Event) -> io::Result<()>) -> Result<(), Box<dyn Error>> {
    let mut input = BufReader::with_capacity(1 << 16, io::stdin().lock());
    let mut output = io::stdout().lock();
    output.write_all(b"READY\n")?;
    output.flush()?;
    let mut line = String::new();
    while let Some(event) = read_event(&mut input, &mut line)? {
        handle(&event)?;
        output.write_all(ANSWER)?;
        output.flush()?;
    }
    Ok(())
}

fn run(args: &[String]) -> Result<(), Box<dyn Error>> {
    match args {
        [mode, n, out] if mode == "count" => count(n.parse()?, out, None),
        [mode, n, out, gate] if mode == "count" => count(n.parse()?, out, Some(gate)),
        [mode, out] if mode == "log" => log(out),
        _ => Err("usage: event_listener count N OUT [GATE] | event_listener log OUT".into()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("event_listener: {e}");
            ExitCode::from(2)
        }
    }
}
