//! `supervisord service install|uninstall`: the systemd unit that runs this binary in the
//! foreground (the Go port's spelling; Python supervisor has no such command).

use std::path::{Path, PathBuf};

/// Where units are installed unless `SUPERVISOR_SYSTEMD_UNIT_DIR` says otherwise (tests).
const UNIT_DIR: &str = "/etc/systemd/system";

/// The unit's file name.
pub const UNIT_NAME: &str = "supervisord.service";

/// Why a service command failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("usage: supervisord service install [-c CONFIGFILE] | supervisord service uninstall")]
    Usage,
    #[error("could not write {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("could not remove {path}: {source}")]
    Remove { path: String, source: std::io::Error },
}

/// The unit for `binary` with `configfile`: foreground (`-n`) so systemd supervises the
/// daemon itself; SIGHUP is supervisord's restart-in-place.
pub fn unit_text(binary: &str, configfile: &str) -> String {
    format!(
        "[Unit]\n\
         Description=Process supervisor (supervisor-rs, a supervisord replacement)\n\
         After=network.target\n\
         \n\
         [Service]\n\
         Type=simple\n\
         ExecStart={binary} -n -c {configfile}\n\
         ExecReload=/bin/kill -HUP $MAINPID\n\
         KillMode=process\n\
         Restart=on-failure\n\
         \n\
         [Install]\n\
         WantedBy=multi-user.target\n"
    )
}

fn unit_path() -> PathBuf {
    let dir = std::env::var_os("SUPERVISOR_SYSTEMD_UNIT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(UNIT_DIR));
    dir.join(UNIT_NAME)
}

/// Runs `service <args>`; returns the line to print on success.
pub fn run(binary: &Path, args: &[String]) -> Result<String, ServiceError> {
    let path = unit_path();
    let shown = path.display().to_string();
    match args {
        [cmd, rest @ ..] if cmd == "install" => {
            let configfile = match rest {
                [] => "/etc/supervisord.conf".to_string(),
                [flag, file] if flag == "-c" || flag == "--configuration" => {
                    crate::config::paths::abspath(file)
                }
                _ => return Err(ServiceError::Usage),
            };
            let text = unit_text(&binary.display().to_string(), &configfile);
            std::fs::write(&path, text)
                .map_err(|source| ServiceError::Write { path: shown.clone(), source })?;
            Ok(format!("installed {shown}; enable it with: systemctl enable --now {UNIT_NAME}"))
        }
        [cmd] if cmd == "uninstall" => {
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(ServiceError::Remove { path: shown, source: e });
                }
                _ => {}
            }
            Ok(format!("removed {shown}"))
        }
        _ => Err(ServiceError::Usage),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_runs_the_binary_in_the_foreground() {
        let text = unit_text("/usr/bin/supervisord", "/etc/s.conf");
        assert!(text.contains("\nExecStart=/usr/bin/supervisord -n -c /etc/s.conf\n"));
        assert!(text.contains("\nWantedBy=multi-user.target\n"));
    }

    #[test]
    fn bad_arguments_are_a_usage_error() {
        let bin = Path::new("/x");
        assert!(matches!(run(bin, &[]), Err(ServiceError::Usage)));
        assert!(matches!(run(bin, &["start".into()]), Err(ServiceError::Usage)));
        assert!(matches!(
            run(bin, &["install".into(), "-x".into(), "y".into()]),
            Err(ServiceError::Usage)
        ));
    }
}
