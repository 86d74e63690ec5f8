//! `pidproxy` and `echo_supervisord_conf` driven as built binaries: signal relaying through a
//! pidfile, exit behaviour, usage text. (compat-tests/test_tools.py compares both with Python.)

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

const PIDPROXY: &str = env!("CARGO_BIN_EXE_pidproxy");

/// A child that records its pid in `pid`, appends every HUP/USR1/TERM it gets to `got`
/// (exiting on TERM), and announces itself through `ready` once its traps are set.
const CHILD: &str = "echo $$ > pid
trap 'echo HUP >> got' HUP
trap 'echo USR1 >> got' USR1
trap 'echo TERM >> got; exit 3' TERM
echo ready > ready
while [ ! -e go ]; do sleep 0.02; done
";

#[allow(clippy::disallowed_methods)] // runs our own binary, not a supervised child
fn pidproxy(dir: &Path, args: &[&str]) -> Child {
    Command::new(PIDPROXY)
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Polls until `check` holds, failing the test after a generous deadline.
fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn file_has(path: &Path, line: &str) -> bool {
    std::fs::read_to_string(path).is_ok_and(|text| text.lines().any(|l| l == line))
}

fn wait_exit(child: &mut Child) -> ExitStatus {
    let mut status = None;
    wait_until("pidproxy to exit", || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    status.unwrap()
}

fn signal(child: &Child, sig: Signal) {
    kill(Pid::from_raw(i32::try_from(child.id()).unwrap()), sig).unwrap();
}

#[test]
fn usage_goes_to_stdout_with_status_1() {
    let dir = tempfile::tempdir().unwrap();
    for args in [&[][..], &["pidfile"]] {
        let out = pidproxy(dir.path(), args).wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            supervisor::tools::pidproxy::usage(PIDPROXY)
        );
        assert!(out.stderr.is_empty());
    }
}

#[test]
fn relays_hup_then_term_to_the_pidfile_pid_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut proxy = pidproxy(d, &["pid", "/bin/sh", "-c", CHILD]);
    wait_until("the child's traps", || d.join("ready").exists());
    signal(&proxy, Signal::SIGHUP);
    wait_until("HUP to reach the child", || file_has(&d.join("got"), "HUP"));
    assert!(proxy.try_wait().unwrap().is_none(), "HUP must not end pidproxy");
    signal(&proxy, Signal::SIGTERM);
    // pidproxy.py exits 0 right after relaying TERM, without waiting for the child.
    assert_eq!(wait_exit(&mut proxy).code(), Some(0));
    wait_until("TERM to reach the child", || file_has(&d.join("got"), "TERM"));
}

#[test]
fn exits_0_when_the_child_exits_whatever_its_status() {
    let dir = tempfile::tempdir().unwrap();
    let mut proxy = pidproxy(dir.path(), &["pid", "/bin/sh", "-c", "exit 7"]);
    assert_eq!(wait_exit(&mut proxy).code(), Some(0));
}

#[test]
fn runs_the_command_by_absolute_path_without_a_path_search() {
    let dir = tempfile::tempdir().unwrap();
    // "sh" resolves to <cwd>/sh, which doesn't exist: the child exits 127, pidproxy exits 0.
    let mut proxy = pidproxy(dir.path(), &["pid", "sh", "-c", "echo ran > ran"]);
    assert_eq!(wait_exit(&mut proxy).code(), Some(0));
    assert!(!dir.path().join("ran").exists());
}

#[test]
fn unreadable_pidfile_drops_even_term_and_keeps_running() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut proxy = pidproxy(d, &["missing.pid", "/bin/sh", "-c", CHILD]);
    wait_until("the child's traps", || d.join("ready").exists());
    signal(&proxy, Signal::SIGTERM);
    let mut line = String::new();
    BufReader::new(proxy.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line, "Can't read child pidfile missing.pid!\n");
    assert!(proxy.try_wait().unwrap().is_none(), "pidproxy must survive the dropped TERM");
    std::fs::write(d.join("go"), "").unwrap();
    assert_eq!(wait_exit(&mut proxy).code(), Some(0));
    assert!(!d.join("got").exists());
}

#[test]
fn echo_supervisord_conf_prints_the_sample() {
    #[allow(clippy::disallowed_methods)] // runs our own binary, not a supervised child
    let out = Command::new(env!("CARGO_BIN_EXE_echo_supervisord_conf"))
        .arg("--ignored-like-python")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().next(), Some("; Sample supervisor config file."));
    assert_eq!(text, supervisor::tools::echo_conf::SAMPLE_CONF);
    assert!(out.stderr.is_empty());
}
