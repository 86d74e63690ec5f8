//! Runs a command and prints its peak resident set size in KiB (`ru_maxrss` from `wait4`), for
//! `scripts/bench`. A small runner matters: the kernel counts a child's memory from before its
//! `exec` too, so a child forked from the bench's own Python process would report Python's size.

use std::error::Error;
use std::os::unix::process::ExitStatusExt;

#[allow(clippy::disallowed_methods)] // a measuring tool, not the daemon's spawner
fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (program, rest) = args.split_first().ok_or("usage: maxrss COMMAND [ARG...]")?;
    let child = std::process::Command::new(program)
        .args(rest)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let pid = i32::try_from(child.id())?;
    let mut status = 0;
    // SAFETY: rusage is plain old data; wait4 fills it for the child we just started.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointers to a status and a rusage owned by this frame.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if waited != pid {
        return Err(std::io::Error::last_os_error().into());
    }
    let code = std::process::ExitStatus::from_raw(status).code().unwrap_or(-1);
    println!("{} {code}", usage.ru_maxrss);
    Ok(())
}
