//! `echo_supervisord_conf`: prints the sample configuration file. The text is our own, but its
//! sections, active settings and commented-out settings line up with supervisor 4.3.0's
//! `skel/sample.conf`, so both files configure supervisord identically.

use std::io::Write;
use std::process::ExitCode;

/// The sample configuration, printed verbatim.
pub const SAMPLE_CONF: &str = include_str!("sample.conf");

/// Entry point. supervisor's `confecho.main` never looks at its arguments, so neither do we:
/// `echo_supervisord_conf --help` prints the sample too.
pub fn main(_args: &[String]) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(SAMPLE_CONF.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Python dies with an uncaught OSError (status 1) when stdout can't be written.
            let _ = writeln!(std::io::stderr(), "{}", crate::python::os_error(&e, None));
            ExitCode::from(1)
        }
    }
}
