//! The supervisord binary's command line: exit statuses and the exact usage texts.
//! (compat-tests compares the same outputs with Python supervisord byte for byte.)

use std::process::{Command, Output};

#[allow(clippy::disallowed_methods)] // runs our own binary, not a supervised child
fn supervisord(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_supervisord")).args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn version_prints_the_supervisor_release() {
    let out = supervisord(&["-v"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "4.3.0\n");
}

#[test]
fn help_substitutes_argv0() {
    let out = supervisord(&["-?"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    assert!(help.starts_with("supervisord -- run a set of applications as daemons.\n"));
    assert!(help.contains(&format!("Usage: {} [options]", env!("CARGO_BIN_EXE_supervisord"))));
    assert!(help.contains("-l/--logfile FILENAME -- use FILENAME as logfile path"));
}

#[test]
fn usage_errors_exit_2_with_python_wording() {
    let argv0 = env!("CARGO_BIN_EXE_supervisord");
    for (args, message) in [
        (&["--bogus"][..], "option --bogus not recognized"),
        (&["-c", "/nonexistent/x.conf"], "could not find config file /nonexistent/x.conf"),
        (&["-c", "x", "extra"], "positional arguments are not supported: ['extra']"),
        (&["-m", "9"], "invalid value for -m '9': 9 can not be converted to an octal type"),
    ] {
        let out = supervisord(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(text(&out.stderr), format!("Error: {message}\nFor help, use {argv0} -h\n"));
    }
}

#[test]
fn config_errors_name_the_section_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("s.conf");
    std::fs::write(&conf, "[supervisord]\n[program:x]\ncommand=/bin/true\nstartsecs=soon\n")
        .unwrap();
    let out = supervisord(&["-c", conf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).starts_with(&format!(
        "Error: invalid literal for int() with base 10: 'soon' in section 'program:x' (file: '{}')\n",
        conf.display()
    )));
}

#[test]
fn undecodable_config_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("latin1.conf");
    std::fs::write(&conf, b"[supervisord]\nidentifier=caf\xe9\n").unwrap();
    let out = supervisord(&["-c", conf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).starts_with(
        "Error: 'utf-8' codec can't decode byte 0xe9 in position 28: invalid continuation byte\n"
    ));
}

#[test]
fn go_port_spellings_version_and_service() {
    let out = supervisord(&["version"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}\n", supervisor::SUPERVISOR_VERSION)
    );
    assert!(out.status.success());

    let dir = tempfile::tempdir().unwrap();
    #[allow(clippy::disallowed_methods)] // runs our own binary, not a supervised child
    let service = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_supervisord"))
            .args(args)
            .env("SUPERVISOR_SYSTEMD_UNIT_DIR", dir.path())
            .output()
            .unwrap()
    };
    let unit = dir.path().join("supervisord.service");
    let out = service(&["service", "install", "-c", "/etc/x.conf"]);
    assert!(out.status.success(), "{out:?}");
    let text = std::fs::read_to_string(&unit).unwrap();
    let exec = format!("\nExecStart={} -n -c /etc/x.conf\n", env!("CARGO_BIN_EXE_supervisord"));
    assert!(text.contains(&exec), "{text}");
    let out = service(&["service", "uninstall"]);
    assert!(out.status.success(), "{out:?}");
    assert!(!unit.exists());
    let out = service(&["service", "restart"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("Error: usage: supervisord service"));
    // Anything else positional is still supervisord's own usage error.
    let out = supervisord(&["versions"]);
    assert_eq!(out.status.code(), Some(2));
}
