//! The line editor of the interactive `supervisorctl` shell on a tty: raw mode, key decoding,
//! editing, history, Tab completion and redrawing of lines that wrap.
//!
//! Hand-written rather than taken from a crate because users of Python's supervisorctl know GNU
//! readline's behaviour and files: the history file is plain lines (so the same file keeps
//! working when switching between the Python and the Rust shell), and Tab first completes the
//! common prefix, then lists the candidates on the second Tab. rustyline would pull in a second
//! `nix` version and writes a `#V2` header into history files, which Python's readline would then
//! show as a history entry.
//!
//! Everything but [`LineEditor::read_line`]'s terminal I/O is pure (the `Decoder` of bytes into
//! keys, the `Editor` state, the `Session` that turns keys into output bytes, and `render`), so
//! it is unit-tested without a tty.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::path::Path;

use nix::errno::Errno;
use nix::sys::termios::{
    self, ControlFlags, InputFlags, LocalFlags, SetArg, SpecialCharacterIndices, Termios,
};

/// What [`LineEditor::read_line`] got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadLine {
    /// Enter was pressed; the line without its newline. "\r\n" has been written.
    Line(String),
    /// Ctrl-D on an empty line, or end of input. Nothing is written after the prompt, as
    /// Python's `do_EOF` prints the newline itself.
    Eof,
    /// Ctrl-C. "^C" is written after the line (what the tty would echo for Python, whose
    /// readline leaves ISIG on), without a newline: Python's shell prints that when it catches
    /// the `KeyboardInterrupt`.
    Interrupted,
}

/// A readline replacement holding the history across [`LineEditor::read_line`] calls.
#[derive(Debug, Default)]
pub struct LineEditor {
    history: Vec<String>,
    decoder: Decoder,
    // Keys read past an Enter (pasted lines) belong to the next call, as they would have stayed
    // in the tty's queue for GNU readline, which reads one byte at a time.
    keys: VecDeque<Key>,
}

impl LineEditor {
    pub fn new() -> LineEditor {
        LineEditor::default()
    }

    /// Reads one line from the terminal: stdin (fd 0) must be a tty; output goes to stdout (fd 1).
    /// Puts the tty in raw mode for the duration (restored on every return path, also via a Drop
    /// guard), writes `prompt`, edits, and on Enter writes "\r\n" and returns the line (without
    /// newline). Adds the line to history like Python's readline does: only if non-empty and
    /// different from the last entry.
    ///
    /// `complete(line, begidx, endidx)` gets the whole buffer and the byte range of the word
    /// before the cursor, and returns full replacements for that word.
    pub fn read_line(
        &mut self,
        prompt: &str,
        complete: &mut dyn FnMut(&str, usize, usize) -> Vec<String>,
    ) -> io::Result<ReadLine> {
        let _raw = RawMode::enter()?;
        let mut session = Session::new(prompt);
        let mut out = Vec::new();
        let mut width = terminal_width();
        loop {
            let Some(key) = self.keys.pop_front() else {
                session.refresh(width, &mut out);
                write_out(&mut out)?;
                let mut bytes = [0u8; 1024];
                let n = read_stdin(&mut bytes)?;
                if n == 0 {
                    return Ok(ReadLine::Eof);
                }
                self.keys.extend(self.decoder.feed(&bytes[..n]));
                // Picks up a resize (SIGWINCH is not caught) at the next keystroke.
                width = terminal_width();
                continue;
            };
            if let Some(result) = session.handle(key, &self.history, complete, width, &mut out) {
                write_out(&mut out)?;
                if let ReadLine::Line(line) = &result {
                    self.add_history(line);
                }
                return Ok(result);
            }
        }
    }

    pub fn history(&self) -> &[String] {
        &self.history
    }

    /// Appends the entries of a history file, one per line, as GNU readline reads a file written
    /// without timestamps: empty lines are skipped, a "\r\n" ending is accepted.
    pub fn read_history_file(&mut self, path: &Path) -> io::Result<()> {
        let bytes = std::fs::read(path)?;
        let text = String::from_utf8_lossy(&bytes);
        for line in text.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if !line.is_empty() {
                self.history.push(line.to_owned());
            }
        }
        Ok(())
    }

    /// Overwrites `path` with one entry per line, each ending "\n".
    pub fn write_history_file(&self, path: &Path) -> io::Result<()> {
        let mut text = String::new();
        for entry in &self.history {
            text.push_str(entry);
            text.push('\n');
        }
        std::fs::write(path, text)
    }

    fn add_history(&mut self, line: &str) {
        if !line.is_empty() && self.history.last().map(String::as_str) != Some(line) {
            self.history.push(line.to_owned());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Terminal I/O

/// Raw mode on fd 0 for as long as it lives.
struct RawMode {
    saved: Termios,
}

impl RawMode {
    fn enter() -> io::Result<RawMode> {
        let stdin = io::stdin();
        let saved = termios::tcgetattr(stdin.as_fd()).map_err(io::Error::from)?;
        let mut raw = saved.clone();
        // The input side as linenoise sets it; OPOST stays on, which is harmless as every line
        // break written here is an explicit "\r\n".
        raw.input_flags.remove(
            InputFlags::BRKINT
                | InputFlags::ICRNL
                | InputFlags::INPCK
                | InputFlags::ISTRIP
                | InputFlags::IXON,
        );
        raw.control_flags.insert(ControlFlags::CS8);
        raw.local_flags
            .remove(LocalFlags::ECHO | LocalFlags::ICANON | LocalFlags::IEXTEN | LocalFlags::ISIG);
        raw.control_chars[SpecialCharacterIndices::VMIN as usize] = 1;
        raw.control_chars[SpecialCharacterIndices::VTIME as usize] = 0;
        // TCSADRAIN, not linenoise's TCSAFLUSH: keys typed ahead while a command ran are kept.
        termios::tcsetattr(stdin.as_fd(), SetArg::TCSADRAIN, &raw).map_err(io::Error::from)?;
        Ok(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // Nothing useful can be done if restoring fails while returning or unwinding.
        let _ = termios::tcsetattr(io::stdin().as_fd(), SetArg::TCSADRAIN, &self.saved);
    }
}

fn read_stdin(buf: &mut [u8]) -> io::Result<usize> {
    let stdin = io::stdin();
    loop {
        match nix::unistd::read(stdin.as_fd(), buf) {
            Ok(n) => return Ok(n),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

fn write_out(out: &mut Vec<u8>) -> io::Result<()> {
    if out.is_empty() {
        return Ok(());
    }
    let mut stdout = io::stdout().lock();
    stdout.write_all(out)?;
    stdout.flush()?;
    out.clear();
    Ok(())
}

fn terminal_width() -> usize {
    for fd in [libc::STDOUT_FILENO, libc::STDIN_FILENO] {
        let mut ws = libc::winsize { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
        // SAFETY: TIOCGWINSZ writes one `winsize` through the pointer, which points to a live,
        // properly aligned local for the whole call.
        let rc = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws as *mut libc::winsize) };
        if rc == 0 && ws.ws_col > 0 {
            return usize::from(ws.ws_col);
        }
    }
    80
}

// ---------------------------------------------------------------------------------------------
// Keys

const CTRL_B: u8 = 0x02;
const CTRL_C: u8 = 0x03;
const CTRL_D: u8 = 0x04;
const CTRL_F: u8 = 0x06;
const CTRL_K: u8 = 0x0b;
const CTRL_L: u8 = 0x0c;
const CTRL_N: u8 = 0x0e;
const CTRL_P: u8 = 0x10;
const CTRL_T: u8 = 0x14;
const CTRL_U: u8 = 0x15;
const CTRL_W: u8 = 0x17;
const CTRL_Y: u8 = 0x19;
const CTRL_A: u8 = 0x01;
const CTRL_E: u8 = 0x05;
const ESC: u8 = 0x1b;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    /// A printable character.
    Char(char),
    /// A control byte without a key of its own below (0x01 is Ctrl-A).
    Ctrl(u8),
    Enter,
    Tab,
    Backspace,
    Delete,
    Home,
    End,
    Left,
    Right,
    Up,
    Down,
    WordLeft,
    WordRight,
}

/// Turns bytes into keys, keeping an incomplete escape sequence or UTF-8 character for the next
/// read.
#[derive(Debug, Default)]
struct Decoder {
    pending: Vec<u8>,
}

enum Parsed {
    /// `consumed` bytes made `key`, or nothing worth acting on.
    Done(Option<Key>, usize),
    Incomplete,
}

impl Decoder {
    fn feed(&mut self, bytes: &[u8]) -> Vec<Key> {
        self.pending.extend_from_slice(bytes);
        let mut keys = Vec::new();
        let mut start = 0;
        while start < self.pending.len() {
            match parse_key(&self.pending[start..]) {
                Parsed::Done(key, consumed) => {
                    keys.extend(key);
                    start += consumed;
                }
                Parsed::Incomplete => break,
            }
        }
        self.pending.drain(..start);
        keys
    }
}

fn parse_key(b: &[u8]) -> Parsed {
    match b[0] {
        ESC => parse_escape(b),
        b'\r' | b'\n' => Parsed::Done(Some(Key::Enter), 1),
        b'\t' => Parsed::Done(Some(Key::Tab), 1),
        0x08 | 0x7f => Parsed::Done(Some(Key::Backspace), 1),
        c @ 0x00..=0x1f => Parsed::Done(Some(Key::Ctrl(c)), 1),
        c @ 0x20..=0x7e => Parsed::Done(Some(Key::Char(char::from(c))), 1),
        lead => {
            let len = match lead {
                0xc2..=0xdf => 2,
                0xe0..=0xef => 3,
                0xf0..=0xf4 => 4,
                _ => return Parsed::Done(None, 1),
            };
            let avail = b.len().min(len);
            if b[1..avail].iter().any(|&c| !(0x80..=0xbf).contains(&c)) {
                return Parsed::Done(None, 1);
            }
            if avail < len {
                return Parsed::Incomplete;
            }
            match std::str::from_utf8(&b[..len]).ok().and_then(|s| s.chars().next()) {
                Some(c) if !c.is_control() => Parsed::Done(Some(Key::Char(c)), len),
                Some(_) => Parsed::Done(None, len),
                None => Parsed::Done(None, 1),
            }
        }
    }
}

fn parse_escape(b: &[u8]) -> Parsed {
    let Some(&second) = b.get(1) else {
        return Parsed::Incomplete;
    };
    match second {
        b'[' => parse_csi(b),
        b'O' => match b.get(2) {
            None => Parsed::Incomplete,
            Some(&c) => {
                let key = match c {
                    b'A' => Some(Key::Up),
                    b'B' => Some(Key::Down),
                    b'C' => Some(Key::Right),
                    b'D' => Some(Key::Left),
                    b'H' => Some(Key::Home),
                    b'F' => Some(Key::End),
                    // rxvt's Ctrl-arrows.
                    b'c' => Some(Key::WordRight),
                    b'd' => Some(Key::WordLeft),
                    _ => None,
                };
                Parsed::Done(key, 3)
            }
        },
        b'b' | b'B' => Parsed::Done(Some(Key::WordLeft), 2),
        b'f' | b'F' => Parsed::Done(Some(Key::WordRight), 2),
        // Another ESC or a non-ASCII byte starts something of its own; drop only this ESC.
        ESC | 0x80..=0xff => Parsed::Done(None, 1),
        _ => Parsed::Done(None, 2),
    }
}

/// ESC [ parameters (0x30-0x3f) intermediates (0x20-0x2f) final (0x40-0x7e).
fn parse_csi(b: &[u8]) -> Parsed {
    let mut i = 2;
    loop {
        let Some(&c) = b.get(i) else {
            return Parsed::Incomplete;
        };
        match c {
            0x20..=0x3f => i += 1,
            0x40..=0x7e => break,
            // Not a well-formed sequence: drop what came so far and let the byte be read anew.
            _ => return Parsed::Done(None, i),
        }
    }
    let params = &b[2..i];
    // "1;5C": the number after ';' is the modifier, 5 is Ctrl and 3 is Alt.
    let word = matches!(params, b"5" | b"3") || params.ends_with(b";5") || params.ends_with(b";3");
    let key = match b[i] {
        b'A' => Some(Key::Up),
        b'B' => Some(Key::Down),
        b'C' if word => Some(Key::WordRight),
        b'D' if word => Some(Key::WordLeft),
        b'C' => Some(Key::Right),
        b'D' => Some(Key::Left),
        b'H' => Some(Key::Home),
        b'F' => Some(Key::End),
        b'~' => match params {
            b"1" | b"7" => Some(Key::Home),
            b"4" | b"8" => Some(Key::End),
            b"3" => Some(Key::Delete),
            _ => None,
        },
        _ => None,
    };
    Parsed::Done(key, i + 1)
}

// ---------------------------------------------------------------------------------------------
// Editing

/// What [`Editor::apply`] asks of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Accept,
    Eof,
    Interrupted,
    /// The buffer or the cursor moved: redraw.
    Changed,
    Unchanged,
    Bell,
    ClearScreen,
    Complete,
}

/// The line being edited.
#[derive(Debug, Default)]
struct Editor {
    buf: Vec<char>,
    /// Cursor, as an index into `buf`.
    pos: usize,
    kill: Vec<char>,
    /// Consecutive kills accumulate into one yankable text, as in readline.
    last_was_kill: bool,
    /// The history entry shown; `None` is the line being typed, kept in `saved` meanwhile.
    hist_idx: Option<usize>,
    saved: Vec<char>,
}

impl Editor {
    fn line(&self) -> String {
        self.buf.iter().collect()
    }

    fn apply(&mut self, key: Key, history: &[String]) -> Outcome {
        let was_kill = std::mem::take(&mut self.last_was_kill);
        match key {
            Key::Char(c) => {
                self.buf.insert(self.pos, c);
                self.pos += 1;
                Outcome::Changed
            }
            Key::Enter => Outcome::Accept,
            Key::Tab => Outcome::Complete,
            Key::Backspace => {
                if self.pos == 0 {
                    return Outcome::Bell;
                }
                self.pos -= 1;
                self.buf.remove(self.pos);
                Outcome::Changed
            }
            Key::Ctrl(CTRL_D) if self.buf.is_empty() => Outcome::Eof,
            Key::Delete | Key::Ctrl(CTRL_D) => {
                if self.pos == self.buf.len() {
                    return Outcome::Bell;
                }
                self.buf.remove(self.pos);
                Outcome::Changed
            }
            Key::Home | Key::Ctrl(CTRL_A) => self.move_to(0),
            Key::End | Key::Ctrl(CTRL_E) => self.move_to(self.buf.len()),
            Key::Left | Key::Ctrl(CTRL_B) => {
                if self.pos == 0 {
                    return Outcome::Bell;
                }
                self.move_to(self.pos - 1)
            }
            Key::Right | Key::Ctrl(CTRL_F) => {
                if self.pos == self.buf.len() {
                    return Outcome::Bell;
                }
                self.move_to(self.pos + 1)
            }
            Key::WordLeft => {
                let mut p = self.pos;
                while p > 0 && !self.buf[p - 1].is_alphanumeric() {
                    p -= 1;
                }
                while p > 0 && self.buf[p - 1].is_alphanumeric() {
                    p -= 1;
                }
                self.move_to(p)
            }
            Key::WordRight => {
                let mut p = self.pos;
                while p < self.buf.len() && !self.buf[p].is_alphanumeric() {
                    p += 1;
                }
                while p < self.buf.len() && self.buf[p].is_alphanumeric() {
                    p += 1;
                }
                self.move_to(p)
            }
            Key::Ctrl(CTRL_K) => {
                let killed: Vec<char> = self.buf.drain(self.pos..).collect();
                self.record_kill(killed, was_kill, false)
            }
            Key::Ctrl(CTRL_U) => {
                let killed: Vec<char> = self.buf.drain(..self.pos).collect();
                self.pos = 0;
                self.record_kill(killed, was_kill, true)
            }
            Key::Ctrl(CTRL_W) => {
                let mut p = self.pos;
                while p > 0 && self.buf[p - 1].is_whitespace() {
                    p -= 1;
                }
                while p > 0 && !self.buf[p - 1].is_whitespace() {
                    p -= 1;
                }
                let killed: Vec<char> = self.buf.drain(p..self.pos).collect();
                self.pos = p;
                self.record_kill(killed, was_kill, true)
            }
            Key::Ctrl(CTRL_Y) => {
                if self.kill.is_empty() {
                    return Outcome::Bell;
                }
                let n = self.kill.len();
                self.buf.splice(self.pos..self.pos, self.kill.iter().copied());
                self.pos += n;
                Outcome::Changed
            }
            Key::Ctrl(CTRL_T) => {
                // readline: at the end the two characters before the cursor swap; elsewhere the
                // ones around it, and the cursor moves right.
                if self.pos == 0 || self.buf.len() < 2 {
                    return Outcome::Bell;
                }
                if self.pos == self.buf.len() {
                    self.pos -= 1;
                }
                self.buf.swap(self.pos - 1, self.pos);
                self.pos += 1;
                Outcome::Changed
            }
            Key::Ctrl(CTRL_L) => Outcome::ClearScreen,
            Key::Ctrl(CTRL_C) => Outcome::Interrupted,
            Key::Up | Key::Ctrl(CTRL_P) => {
                let idx = match self.hist_idx {
                    Some(0) => return Outcome::Bell,
                    Some(i) => i - 1,
                    None if history.is_empty() => return Outcome::Bell,
                    None => {
                        self.saved = std::mem::take(&mut self.buf);
                        history.len() - 1
                    }
                };
                self.show_history(history, Some(idx))
            }
            Key::Down | Key::Ctrl(CTRL_N) => match self.hist_idx {
                None => Outcome::Bell,
                Some(i) if i + 1 < history.len() => self.show_history(history, Some(i + 1)),
                Some(_) => self.show_history(history, None),
            },
            Key::Ctrl(_) => Outcome::Bell,
        }
    }

    fn move_to(&mut self, pos: usize) -> Outcome {
        if pos == self.pos {
            return Outcome::Unchanged;
        }
        self.pos = pos;
        Outcome::Changed
    }

    fn record_kill(&mut self, killed: Vec<char>, was_kill: bool, backward: bool) -> Outcome {
        self.last_was_kill = true;
        if killed.is_empty() {
            return Outcome::Unchanged;
        }
        if !was_kill {
            self.kill = killed;
        } else if backward {
            self.kill.splice(0..0, killed);
        } else {
            self.kill.extend(killed);
        }
        Outcome::Changed
    }

    fn show_history(&mut self, history: &[String], idx: Option<usize>) -> Outcome {
        self.hist_idx = idx;
        self.buf = match idx.and_then(|i| history.get(i)) {
            Some(entry) => entry.chars().collect(),
            None => std::mem::take(&mut self.saved),
        };
        self.pos = self.buf.len();
        Outcome::Changed
    }

    /// The completion word before the cursor: its start as a `buf` index, and its byte range in
    /// the line.
    fn word_range(&self) -> (usize, usize, usize) {
        let start = self.buf[..self.pos]
            .iter()
            .rposition(|c| COMPLETER_DELIMS.contains(*c))
            .map_or(0, |i| i + 1);
        let bytes = |chars: &[char]| chars.iter().map(|c| c.len_utf8()).sum::<usize>();
        (start, bytes(&self.buf[..start]), bytes(&self.buf[..self.pos]))
    }

    /// Replaces `buf[start..pos]` with `text`; true if that changed anything.
    fn replace_word(&mut self, start: usize, text: &str) -> bool {
        let new: Vec<char> = text.chars().collect();
        if self.buf[start..self.pos] == new[..] {
            return false;
        }
        let n = new.len();
        self.buf.splice(start..self.pos, new);
        self.pos = start + n;
        true
    }
}

/// GNU readline's default `rl_completer_word_break_characters`; Python's supervisorctl only
/// removes characters from it that it lacks anyway.
const COMPLETER_DELIMS: &str = " \t\n\"\\'`@$><=;|&{(";

/// Readline's `completion-query-items`.
const QUERY_ITEMS: usize = 100;

// ---------------------------------------------------------------------------------------------
// A read_line call: keys in, bytes out

struct Session<'p> {
    prompt: &'p str,
    ed: Editor,
    rows: RowState,
    dirty: bool,
    /// Candidates waiting for the answer to "Display all N possibilities?".
    query: Option<Vec<String>>,
    /// The previous key was a Tab that left the buffer as it was, so a Tab now lists.
    tab_pending: bool,
}

impl<'p> Session<'p> {
    fn new(prompt: &'p str) -> Session<'p> {
        Session {
            prompt,
            ed: Editor::default(),
            rows: RowState::default(),
            dirty: true,
            query: None,
            tab_pending: false,
        }
    }

    fn refresh(&mut self, width: usize, out: &mut Vec<u8>) {
        if self.dirty {
            let (bytes, rows) = render(self.prompt, &self.ed.buf, self.ed.pos, width, self.rows);
            out.extend(bytes);
            self.rows = rows;
            self.dirty = false;
        }
    }

    fn handle(
        &mut self,
        key: Key,
        history: &[String],
        complete: &mut dyn FnMut(&str, usize, usize) -> Vec<String>,
        width: usize,
        out: &mut Vec<u8>,
    ) -> Option<ReadLine> {
        if let Some(candidates) = self.query.take() {
            out.extend_from_slice(b"\r\n");
            if matches!(key, Key::Char('y' | 'Y' | ' ')) {
                out.extend(columns(&candidates, width));
            }
            self.start_fresh_line();
            return None;
        }
        let tab_pending = std::mem::take(&mut self.tab_pending);
        match self.ed.apply(key, history) {
            Outcome::Accept => {
                self.move_to_end(width, out);
                // A line that filled its last row is already followed by a fresh one.
                if !self.rows.ended_at_margin {
                    out.extend_from_slice(b"\r\n");
                }
                return Some(ReadLine::Line(self.ed.line()));
            }
            Outcome::Eof => {
                self.move_to_end(width, out);
                return Some(ReadLine::Eof);
            }
            Outcome::Interrupted => {
                self.move_to_end(width, out);
                out.extend_from_slice(b"^C");
                return Some(ReadLine::Interrupted);
            }
            Outcome::Changed => self.dirty = true,
            Outcome::Unchanged => {}
            Outcome::Bell => out.push(0x07),
            Outcome::ClearScreen => {
                out.extend_from_slice(b"\x1b[H\x1b[2J");
                self.start_fresh_line();
            }
            Outcome::Complete => self.complete(tab_pending, complete, width, out),
        }
        None
    }

    /// Leaves the cursor after the end of the input, on its last row.
    fn move_to_end(&mut self, width: usize, out: &mut Vec<u8>) {
        if self.ed.pos != self.ed.buf.len() {
            self.ed.pos = self.ed.buf.len();
            self.dirty = true;
        }
        self.refresh(width, out);
    }

    /// The cursor is at the start of an empty row, where the prompt and line get drawn anew.
    fn start_fresh_line(&mut self) {
        self.rows = RowState::default();
        self.dirty = true;
    }

    fn complete(
        &mut self,
        tab_pending: bool,
        complete: &mut dyn FnMut(&str, usize, usize) -> Vec<String>,
        width: usize,
        out: &mut Vec<u8>,
    ) {
        let (start, begidx, endidx) = self.ed.word_range();
        let mut candidates = complete(&self.ed.line(), begidx, endidx);
        candidates.sort();
        candidates.dedup();
        let changed = match candidates.as_slice() {
            [] => {
                out.push(0x07);
                return;
            }
            [only] => self.ed.replace_word(start, only),
            several => {
                let lcp = common_prefix(several);
                lcp.chars().count() > self.ed.pos - start && self.ed.replace_word(start, &lcp)
            }
        };
        if changed {
            self.dirty = true;
        } else if tab_pending {
            // Further Tabs list again, as readline's do while the buffer stays unchanged.
            self.tab_pending = true;
            self.list(candidates, width, out);
            return;
        }
        // readline rings on every Tab that leaves several candidates, even one that extended the
        // word, and lists on the next Tab only if this one changed nothing.
        if candidates.len() > 1 {
            out.push(0x07);
        }
        self.tab_pending = !changed;
    }

    fn list(&mut self, candidates: Vec<String>, width: usize, out: &mut Vec<u8>) {
        // The list starts below the whole line, as readline's `_rl_move_vert (_rl_vis_botlin)`;
        // a line that filled its last row already has the cursor on a fresh one.
        self.move_to_last_row(width, out);
        if !self.rows.ended_at_margin {
            out.extend_from_slice(b"\r\n");
        }
        if candidates.len() >= QUERY_ITEMS {
            out.extend(format!("Display all {} possibilities? (y or n)", candidates.len()).bytes());
            self.query = Some(candidates);
            return;
        }
        out.extend(columns(&candidates, width));
        self.start_fresh_line();
    }

    fn move_to_last_row(&mut self, width: usize, out: &mut Vec<u8>) {
        self.refresh(width, out);
        let below = self.rows.rows.saturating_sub(1).saturating_sub(self.rows.cursor_row);
        if below > 0 {
            out.extend(format!("\x1b[{below}B").bytes());
        }
    }
}

fn common_prefix(words: &[String]) -> String {
    let Some((first, rest)) = words.split_first() else {
        return String::new();
    };
    let mut prefix = first.as_str();
    for word in rest {
        let end = prefix
            .char_indices()
            .zip(word.chars())
            .find(|((_, a), b)| a != b)
            .map_or_else(|| prefix.len().min(word.len()), |((i, _), _)| i);
        prefix = &prefix[..end];
    }
    prefix.to_owned()
}

/// The candidates as readline's `rl_display_match_list` prints them: sorted down the columns,
/// each column as wide as the longest candidate plus two, every row ended by "\r\n".
fn columns(items: &[String], width: usize) -> Vec<u8> {
    let mut out = Vec::new();
    if let [only] = items {
        out.extend_from_slice(only.as_bytes());
        out.extend_from_slice(b"\r\n");
        return out;
    }
    let max = items.iter().map(|s| str_width(s)).max().unwrap_or(0) + 2;
    let mut limit = width / max;
    // Readline keeps a full row off the last column, where the terminal would wrap.
    if limit != 1 && limit * max == width {
        limit -= 1;
    }
    let limit = limit.max(1);
    let count = items.len().div_ceil(limit);
    for row in 0..count {
        for col in 0..limit {
            let Some(item) = items.get(row + col * count) else {
                break;
            };
            out.extend_from_slice(item.as_bytes());
            if col + 1 < limit {
                let pad = max.saturating_sub(str_width(item)).max(1);
                out.extend(std::iter::repeat_n(b' ', pad));
            }
        }
        out.extend_from_slice(b"\r\n");
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Rendering

/// Where the previous render left things: how many rows it used and which of them holds the
/// cursor (0 is the prompt's row).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct RowState {
    rows: usize,
    cursor_row: usize,
    /// The text filled its last row, so the render already started the next one.
    ended_at_margin: bool,
}

/// The bytes that redraw `prompt` and `buf` with the cursor at `buf[pos]` on a terminal `width`
/// columns wide, starting from where `prev` left the cursor.
fn render(
    prompt: &str,
    buf: &[char],
    pos: usize,
    width: usize,
    prev: RowState,
) -> (Vec<u8>, RowState) {
    let width = width.max(1);
    let mut out = Vec::new();
    if prev.cursor_row > 0 {
        out.extend(format!("\x1b[{}A", prev.cursor_row).bytes());
    }
    out.extend_from_slice(b"\r\x1b[J");
    out.extend_from_slice(prompt.as_bytes());
    out.extend(buf.iter().collect::<String>().bytes());

    // Lay out as the terminal does: a character that does not fit goes to the next row, and
    // after the last column the cursor waits there ("pending wrap") until the next character.
    let (mut row, mut col) = (0, 0);
    let mut cursor = (0, 0);
    let cursor_index = prompt.chars().count() + pos;
    for (i, c) in prompt.chars().chain(buf.iter().copied()).enumerate() {
        let w = char_width(c);
        if col + w > width {
            row += 1;
            col = 0;
        }
        if i == cursor_index {
            cursor = (row, col);
        }
        col += w;
    }
    let ended_at_margin = col >= width;
    if ended_at_margin {
        // The cursor's column is undefined in the pending-wrap state; make it the next row's
        // start.
        out.extend_from_slice(b"\r\n");
        row += 1;
        col = 0;
    }
    if pos >= buf.len() {
        cursor = (row, col);
    }
    if cursor != (row, col) {
        if row > cursor.0 {
            out.extend(format!("\x1b[{}A", row - cursor.0).bytes());
        }
        out.push(b'\r');
        if cursor.1 > 0 {
            out.extend(format!("\x1b[{}C", cursor.1).bytes());
        }
    }
    (out, RowState { rows: row + 1, cursor_row: cursor.0, ended_at_margin })
}

fn str_width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

fn char_width(c: char) -> usize {
    let cp = u32::from(c);
    let combining = matches!(cp, 0x0300..=0x036f | 0x1ab0..=0x1aff | 0x1dc0..=0x1dff | 0x20d0..=0x20ff | 0xfe20..=0xfe2f | 0x200b..=0x200f);
    let wide = matches!(cp,
        0x1100..=0x115f
        | 0x2e80..=0x303e
        | 0x3041..=0x33ff
        | 0x3400..=0x4dbf
        | 0x4e00..=0x9fff
        | 0xa000..=0xa4cf
        | 0xac00..=0xd7a3
        | 0xf900..=0xfaff
        | 0xfe30..=0xfe4f
        | 0xff00..=0xff60
        | 0xffe0..=0xffe6
        | 0x1f300..=0x1f64f
        | 0x1f900..=0x1f9ff
        | 0x20000..=0x2fffd
        | 0x30000..=0x3fffd);
    if combining {
        0
    } else if wide {
        2
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> Vec<Key> {
        Decoder::default().feed(bytes)
    }

    /// Feeds `bytes` split at every boundary, in two reads, and checks each gives `want`.
    fn decode_split(bytes: &[u8], want: &[Key]) {
        for cut in 0..=bytes.len() {
            let mut d = Decoder::default();
            let mut keys = d.feed(&bytes[..cut]);
            keys.extend(d.feed(&bytes[cut..]));
            assert_eq!(keys, want, "split at {cut} of {bytes:?}");
            assert!(d.pending.is_empty());
        }
    }

    fn editor(text: &str, pos: usize) -> Editor {
        Editor { buf: text.chars().collect(), pos, ..Editor::default() }
    }

    fn keys_into(ed: &mut Editor, bytes: &[u8], history: &[String]) -> Vec<Outcome> {
        decode(bytes).into_iter().map(|k| ed.apply(k, history)).collect()
    }

    fn text(ed: &Editor) -> (String, usize) {
        (ed.line(), ed.pos)
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    struct Run {
        session: Session<'static>,
        /// Everything written after the first prompt.
        out: Vec<u8>,
        result: Option<ReadLine>,
        /// The completer's arguments, per call.
        calls: Vec<(String, usize, usize)>,
    }

    /// Runs `bytes` through a session at `width` columns, completing from `candidates`.
    fn run(bytes: &[u8], history: &[String], candidates: &[&str], width: usize) -> Run {
        let mut session = Session::new("> ");
        let mut out = Vec::new();
        session.refresh(width, &mut out);
        out.clear();
        let mut calls = Vec::new();
        let mut complete = |line: &str, beg: usize, end: usize| {
            calls.push((line.to_owned(), beg, end));
            strings(candidates)
        };
        let mut result = None;
        // One key per read, as when typing: the line is redrawn before each next key.
        for key in decode(bytes) {
            result = session.handle(key, history, &mut complete, width, &mut out);
            if result.is_some() {
                break;
            }
            session.refresh(width, &mut out);
        }
        Run { session, out, result, calls }
    }

    #[test]
    fn decodes_plain_and_control_bytes() {
        assert_eq!(
            decode(b"a Z~"),
            [Key::Char('a'), Key::Char(' '), Key::Char('Z'), Key::Char('~')]
        );
        assert_eq!(decode(b"\r\n\t"), [Key::Enter, Key::Enter, Key::Tab]);
        assert_eq!(decode(b"\x7f\x08"), [Key::Backspace, Key::Backspace]);
        assert_eq!(
            decode(b"\x01\x04\x17\x03"),
            [Key::Ctrl(CTRL_A), Key::Ctrl(CTRL_D), Key::Ctrl(CTRL_W), Key::Ctrl(CTRL_C)]
        );
    }

    #[test]
    fn decodes_escape_sequences() {
        let cases: &[(&[u8], Key)] = &[
            (b"\x1b[A", Key::Up),
            (b"\x1b[B", Key::Down),
            (b"\x1b[C", Key::Right),
            (b"\x1b[D", Key::Left),
            (b"\x1bOA", Key::Up),
            (b"\x1bOB", Key::Down),
            (b"\x1bOC", Key::Right),
            (b"\x1bOD", Key::Left),
            (b"\x1b[H", Key::Home),
            (b"\x1b[F", Key::End),
            (b"\x1bOH", Key::Home),
            (b"\x1bOF", Key::End),
            (b"\x1b[1~", Key::Home),
            (b"\x1b[7~", Key::Home),
            (b"\x1b[4~", Key::End),
            (b"\x1b[8~", Key::End),
            (b"\x1b[3~", Key::Delete),
            (b"\x1bb", Key::WordLeft),
            (b"\x1bf", Key::WordRight),
            (b"\x1b[1;5C", Key::WordRight),
            (b"\x1b[1;5D", Key::WordLeft),
        ];
        for (bytes, key) in cases {
            assert_eq!(decode(bytes), [*key], "{bytes:?}");
        }
    }

    #[test]
    fn decodes_sequences_split_at_every_byte() {
        decode_split(b"\x1b[1;5Cx", &[Key::WordRight, Key::Char('x')]);
        decode_split(b"\x1b[3~\x1bOA", &[Key::Delete, Key::Up]);
        decode_split("é€😀".as_bytes(), &[Key::Char('é'), Key::Char('€'), Key::Char('😀')]);
    }

    #[test]
    fn unknown_escape_sequences_are_dropped() {
        assert_eq!(
            decode(b"\x1b[15~a\x1b[99Zb\x1bOxc\x1bqd"),
            [Key::Char('a'), Key::Char('b'), Key::Char('c'), Key::Char('d')]
        );
    }

    #[test]
    fn lone_escape_waits_for_the_next_byte() {
        let mut d = Decoder::default();
        assert_eq!(d.feed(b"\x1b"), []);
        assert_eq!(d.pending, b"\x1b");
        assert_eq!(d.feed(b"b"), [Key::WordLeft]);
        assert!(d.pending.is_empty());
    }

    #[test]
    fn invalid_utf8_is_dropped() {
        assert_eq!(decode(b"\xffa\xc3(b"), [Key::Char('a'), Key::Char('('), Key::Char('b')]);
    }

    #[test]
    fn inserts_and_deletes_in_the_middle() {
        let mut ed = editor("helo", 3);
        keys_into(&mut ed, b"l", &[]);
        assert_eq!(text(&ed), ("hello".into(), 4));
        keys_into(&mut ed, b"\x7f", &[]);
        assert_eq!(text(&ed), ("helo".into(), 3));
        keys_into(&mut ed, b"\x08", &[]);
        assert_eq!(text(&ed), ("heo".into(), 2));
        keys_into(&mut ed, b"\x1b[3~", &[]);
        assert_eq!(text(&ed), ("he".into(), 2));
        assert_eq!(keys_into(&mut ed, b"\x1b[3~", &[]), [Outcome::Bell]);
        keys_into(&mut ed, b"\x01", &[]);
        assert_eq!(keys_into(&mut ed, b"\x7f", &[]), [Outcome::Bell]);
    }

    #[test]
    fn moves_home_end_and_by_char() {
        let mut ed = editor("abc", 1);
        keys_into(&mut ed, b"\x05", &[]);
        assert_eq!(ed.pos, 3);
        keys_into(&mut ed, b"\x01", &[]);
        assert_eq!(ed.pos, 0);
        keys_into(&mut ed, b"\x06\x1b[C", &[]);
        assert_eq!(ed.pos, 2);
        keys_into(&mut ed, b"\x02", &[]);
        assert_eq!(ed.pos, 1);
        keys_into(&mut ed, b"\x1b[F", &[]);
        assert_eq!(ed.pos, 3);
        assert_eq!(keys_into(&mut ed, b"\x1b[C", &[]), [Outcome::Bell]);
    }

    #[test]
    fn ctrl_d_is_eof_only_on_an_empty_line() {
        let mut ed = editor("", 0);
        assert_eq!(keys_into(&mut ed, b"\x04", &[]), [Outcome::Eof]);
        let mut ed = editor("ab", 0);
        assert_eq!(keys_into(&mut ed, b"\x04", &[]), [Outcome::Changed]);
        assert_eq!(text(&ed), ("b".into(), 0));
        let mut ed = editor("ab", 2);
        assert_eq!(keys_into(&mut ed, b"\x04", &[]), [Outcome::Bell]);
    }

    #[test]
    fn kills_and_yanks() {
        let mut ed = editor("start foo bar", 6);
        keys_into(&mut ed, b"\x0b", &[]);
        assert_eq!(text(&ed), ("start ".into(), 6));
        keys_into(&mut ed, b"\x01\x19", &[]);
        assert_eq!(text(&ed), ("foo barstart ".into(), 7));

        let mut ed = editor("start foo bar", 9);
        keys_into(&mut ed, b"\x15", &[]);
        assert_eq!(text(&ed), (" bar".into(), 0));
        keys_into(&mut ed, b"\x05\x19", &[]);
        assert_eq!(text(&ed), (" barstart foo".into(), 13));

        let mut ed = editor("stop  foo:bar  ", 15);
        keys_into(&mut ed, b"\x17", &[]);
        assert_eq!(text(&ed), ("stop  ".into(), 6));
        // Consecutive kills make one yank.
        keys_into(&mut ed, b"\x17", &[]);
        assert_eq!(text(&ed), ("".into(), 0));
        keys_into(&mut ed, b"\x19", &[]);
        assert_eq!(text(&ed), ("stop  foo:bar  ".into(), 15));
    }

    #[test]
    fn transposes_like_readline() {
        let mut ed = editor("abcd", 1);
        keys_into(&mut ed, b"\x14", &[]);
        assert_eq!(text(&ed), ("bacd".into(), 2));
        let mut ed = editor("abcd", 4);
        keys_into(&mut ed, b"\x14", &[]);
        assert_eq!(text(&ed), ("abdc".into(), 4));
        let mut ed = editor("abcd", 0);
        assert_eq!(keys_into(&mut ed, b"\x14", &[]), [Outcome::Bell]);
    }

    #[test]
    fn moves_by_words() {
        let mut ed = editor("start foo:bar baz", 17);
        keys_into(&mut ed, b"\x1bb", &[]);
        assert_eq!(ed.pos, 14);
        keys_into(&mut ed, b"\x1b[1;5D", &[]);
        assert_eq!(ed.pos, 10);
        keys_into(&mut ed, b"\x1bb\x1bb", &[]);
        assert_eq!(ed.pos, 0);
        keys_into(&mut ed, b"\x1bf", &[]);
        assert_eq!(ed.pos, 5);
        keys_into(&mut ed, b"\x1b[1;5C", &[]);
        assert_eq!(ed.pos, 9);
        keys_into(&mut ed, b"\x1bf\x1bf\x1bf", &[]);
        assert_eq!(ed.pos, 17);
    }

    #[test]
    fn other_keys_return_their_outcome() {
        let mut ed = editor("x", 1);
        assert_eq!(
            keys_into(&mut ed, b"\x0c\x03\t\r\x07", &[]),
            [
                Outcome::ClearScreen,
                Outcome::Interrupted,
                Outcome::Complete,
                Outcome::Accept,
                Outcome::Bell
            ]
        );
        assert_eq!(text(&ed), ("x".into(), 1));
    }

    #[test]
    fn history_navigation_restores_the_edited_line() {
        let history = strings(&["status", "start foo"]);
        let mut ed = editor("sto", 3);
        keys_into(&mut ed, b"\x1b[A", &history);
        assert_eq!(text(&ed), ("start foo".into(), 9));
        keys_into(&mut ed, b"\x10", &history);
        assert_eq!(text(&ed), ("status".into(), 6));
        assert_eq!(keys_into(&mut ed, b"\x1b[A", &history), [Outcome::Bell]);
        keys_into(&mut ed, b"\x1b[B", &history);
        assert_eq!(text(&ed), ("start foo".into(), 9));
        keys_into(&mut ed, b"\x0e", &history);
        assert_eq!(text(&ed), ("sto".into(), 3));
        assert_eq!(keys_into(&mut ed, b"\x1b[B", &history), [Outcome::Bell]);
        assert_eq!(keys_into(&mut editor("", 0), b"\x1b[A", &[]), [Outcome::Bell]);
    }

    #[test]
    fn history_adds_like_python_readline() {
        let mut le = LineEditor::new();
        for line in ["status", "", "status", "start foo", "status"] {
            le.add_history(line);
        }
        assert_eq!(le.history(), ["status", "start foo", "status"]);
    }

    #[test]
    fn history_file_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history");
        let mut le = LineEditor::new();
        le.add_history("status");
        le.add_history("tail -f foo:bar stderr");
        le.add_history("échec");
        le.write_history_file(&path).unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap(),
            "status\ntail -f foo:bar stderr\néchec\n".as_bytes()
        );

        let mut other = LineEditor::new();
        other.add_history("first");
        other.read_history_file(&path).unwrap();
        assert_eq!(other.history(), ["first", "status", "tail -f foo:bar stderr", "échec"]);

        std::fs::write(&path, "a\r\n\nb").unwrap();
        let mut third = LineEditor::new();
        third.read_history_file(&path).unwrap();
        assert_eq!(third.history(), ["a", "b"]);
        assert!(third.read_history_file(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn accept_returns_the_line_and_ends_it() {
        let Run { out, result, .. } = run(b"abc\x01\r", &[], &[], 80);
        assert_eq!(result, Some(ReadLine::Line("abc".into())));
        // The cursor goes back to the end before the line is ended.
        assert!(out.ends_with(b"\r\x1b[J> abc\r\n"), "{:?}", String::from_utf8_lossy(&out));
    }

    #[test]
    fn accept_at_the_margin_ends_the_line_once() {
        let Run { out, result, .. } = run(b"abcdefgh\r", &[], &[], 10);
        assert_eq!(result, Some(ReadLine::Line("abcdefgh".into())));
        assert!(out.ends_with(b"\r\x1b[J> abcdefgh\r\n"), "{:?}", String::from_utf8_lossy(&out));
        assert!(!out.ends_with(b"\r\n\r\n"));
    }

    #[test]
    fn eof_and_interrupt() {
        let Run { out, result, .. } = run(b"\x04", &[], &[], 80);
        assert_eq!(result, Some(ReadLine::Eof));
        assert_eq!(out, b"");
        let Run { out, result, .. } = run(b"ab\x03", &[], &[], 80);
        assert_eq!(result, Some(ReadLine::Interrupted));
        assert!(out.ends_with(b"> ab^C"));
    }

    #[test]
    fn clear_screen_redraws_at_the_top() {
        let Run { out, .. } = run(b"ab\x0c", &[], &[], 80);
        assert_eq!(out, b"\r\x1b[J> a\r\x1b[J> ab\x1b[H\x1b[2J\r\x1b[J> ab");
    }

    #[test]
    fn completion_without_candidates_rings() {
        let Run { session: s, out, calls, .. } = run(b"xy\t", &[], &[], 80);
        assert_eq!(calls, [("xy".to_owned(), 0, 2)]);
        assert_eq!(out, b"\r\x1b[J> x\r\x1b[J> xy\x07");
        assert_eq!(s.ed.line(), "xy");
    }

    #[test]
    fn completion_with_one_candidate_replaces_the_word() {
        let Run { session: s, out, calls, .. } = run(b"st\t", &[], &["start "], 80);
        assert_eq!(calls, [("st".to_owned(), 0, 2)]);
        assert_eq!(text(&s.ed), ("start ".into(), 6));
        assert!(!out.contains(&0x07));
    }

    #[test]
    fn completion_word_starts_after_a_delimiter() {
        // "é" is two bytes: the range is in bytes.
        let Run { session: s, calls, .. } = run(b"start \xc3\xa9=fo\t", &[], &["foo:bar "], 80);
        assert_eq!(calls, [("start é=fo".to_owned(), 9, 11)]);
        assert_eq!(text(&s.ed), ("start é=foo:bar ".into(), 16));
        // In the middle of the line, the word ends at the cursor and the rest stays.
        let keys = b"start \xc3\xa9=foo:bar \x01\x1bf\x1bf\x1bf\x02\t";
        let Run { session: s, calls, .. } = run(keys, &[], &["foo:bar "], 80);
        assert_eq!(calls, [("start é=foo:bar ".to_owned(), 9, 11)]);
        assert_eq!(text(&s.ed), ("start é=foo:bar o:bar ".into(), 16));
    }

    #[test]
    fn completion_inserts_the_common_prefix_and_rings() {
        let cands = ["start ", "status ", "stop "];
        let Run { session: s, out, .. } = run(b"s\t", &[], &cands, 80);
        assert_eq!(text(&s.ed), ("st".into(), 2));
        assert!(out.ends_with(b"\x07\r\x1b[J> st"), "{:?}", String::from_utf8_lossy(&out));
        assert!(!s.tab_pending);
    }

    #[test]
    fn second_tab_lists_in_columns() {
        let cands = ["exit ", "add ", "avail ", "clear ", "fg ", "add "];
        // First Tab cannot extend "" (no common prefix): bell; the second lists.
        let Run { session: s, out, .. } = run(b"\t\t", &[], &cands, 30);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "\x07\r\nadd     clear   fg \r\navail   exit    \r\n\r\x1b[J> "
        );
        assert_eq!(s.rows, RowState { rows: 1, cursor_row: 0, ended_at_margin: false });
    }

    #[test]
    fn further_tabs_list_again() {
        let Run { out, .. } = run(b"\t\t\t", &[], &["add ", "exit "], 80);
        let list = "\r\nadd    exit   \r\n\r\x1b[J> ";
        assert_eq!(String::from_utf8_lossy(&out), format!("\x07{list}{list}"));
    }

    #[test]
    fn tab_after_an_extending_tab_does_not_list() {
        let cands = ["start ", "status "];
        let Run { session: s, out, .. } = run(b"s\t\t", &[], &cands, 80);
        assert_eq!(s.ed.line(), "sta");
        assert!(!out.windows(2).any(|w| w == b"\r\n"));
        let Run { out, .. } = run(b"s\t\t\t", &[], &cands, 80);
        assert!(
            out.ends_with(b"\r\nstart    status   \r\n\r\x1b[J> sta"),
            "{:?}",
            String::from_utf8_lossy(&out)
        );
    }

    #[test]
    fn columns_layout() {
        let items = strings(&["add ", "avail ", "clear ", "exit ", "fg "]);
        assert_eq!(columns(&items, 30), b"add     clear   fg \r\navail   exit    \r\n");
        // A row that exactly fills the width loses a column, as in readline.
        assert_eq!(columns(&items, 24), b"add     exit \r\navail   fg \r\nclear   \r\n");
        assert_eq!(columns(&items, 5), b"add \r\navail \r\nclear \r\nexit \r\nfg \r\n");
        assert_eq!(columns(&strings(&["only "]), 80), b"only \r\n");
    }

    #[test]
    fn many_candidates_ask_first() {
        let names: Vec<String> = (0..100).map(|i| format!("p{i:03} ")).collect();
        let cands: Vec<&str> = names.iter().map(String::as_str).collect();
        // The first Tab inserts the common "p0", the second rings, the third asks.
        let Run { session: s, out, .. } = run(b"\t\t\t", &[], &cands, 80);
        assert!(out.ends_with(b"\x07\r\nDisplay all 100 possibilities? (y or n)"));
        assert!(s.query.is_some());

        let Run { session: s, out, .. } = run(b"\t\t\tn", &[], &cands, 80);
        assert!(out.ends_with(b"(y or n)\r\n\r\x1b[J> p0"), "{:?}", String::from_utf8_lossy(&out));
        assert!(s.query.is_none());

        let Run { out, .. } = run(b"\t\t\ty", &[], &cands, 80);
        let text = String::from_utf8_lossy(&out);
        // 80 / 7 = 11 columns, 10 rows.
        assert!(text.contains("(y or n)\r\np000   p010   "), "{text:?}");
        assert_eq!(text.matches("\r\n").count(), 1 + 1 + 10);
        assert!(text.ends_with("p099   \r\n\r\x1b[J> p0"));
    }

    #[test]
    fn render_wrapped_line_cursor_at_start() {
        let buf: Vec<char> = "abcdefghijklmnopqrstuvwxy".chars().collect();
        let (out, rows) = render("> ", &buf, buf.len(), 10, RowState::default());
        assert_eq!(out, b"\r\x1b[J> abcdefghijklmnopqrstuvwxy");
        assert_eq!(rows, RowState { rows: 3, cursor_row: 2, ended_at_margin: false });
        let (out, rows) = render("> ", &buf, 0, 10, rows);
        assert_eq!(out, b"\x1b[2A\r\x1b[J> abcdefghijklmnopqrstuvwxy\x1b[2A\r\x1b[2C");
        assert_eq!(rows, RowState { rows: 3, cursor_row: 0, ended_at_margin: false });
        let (out, rows) = render("> ", &buf, 9, 10, rows);
        assert_eq!(out, b"\r\x1b[J> abcdefghijklmnopqrstuvwxy\x1b[1A\r\x1b[1C");
        assert_eq!(rows, RowState { rows: 3, cursor_row: 1, ended_at_margin: false });
    }

    #[test]
    fn render_line_ending_at_the_margin() {
        let buf: Vec<char> = "abcdefghijklmnopqr".chars().collect();
        let (out, rows) = render("> ", &buf, buf.len(), 10, RowState::default());
        assert_eq!(out, b"\r\x1b[J> abcdefghijklmnopqr\r\n");
        assert_eq!(rows, RowState { rows: 3, cursor_row: 2, ended_at_margin: true });
        let (out, rows) = render("> ", &buf, 8, 10, rows);
        assert_eq!(out, b"\x1b[2A\r\x1b[J> abcdefghijklmnopqr\r\n\x1b[1A\r");
        assert_eq!(rows, RowState { rows: 3, cursor_row: 1, ended_at_margin: true });
    }

    #[test]
    fn render_wide_characters() {
        // "> " + 4 wide chars = 10 columns: exactly the width.
        let buf: Vec<char> = "漢字한글".chars().collect();
        let (out, rows) = render("> ", &buf, 4, 10, RowState::default());
        assert!(out.ends_with("漢字한글\r\n".as_bytes()));
        assert_eq!(rows, RowState { rows: 2, cursor_row: 1, ended_at_margin: true });
        // At 9 columns the fourth does not fit and starts the second row.
        let (out, rows) = render("> ", &buf, 3, 9, RowState::default());
        assert!(out.ends_with("漢字한글\r".as_bytes()), "{:?}", String::from_utf8_lossy(&out));
        assert_eq!(rows, RowState { rows: 2, cursor_row: 1, ended_at_margin: false });
        assert_eq!(str_width("a漢\u{301}"), 3);
    }

    #[test]
    fn common_prefix_is_char_wise() {
        assert_eq!(common_prefix(&strings(&["éa", "éb"])), "é");
        assert_eq!(common_prefix(&strings(&["abc", "ab", "abd"])), "ab");
        assert_eq!(common_prefix(&strings(&["x", "y"])), "");
    }
}
