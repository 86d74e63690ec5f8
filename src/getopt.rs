//! Python's `getopt.getopt`, which supervisord and supervisorctl parse their command lines with.
//!
//! Written by hand rather than with clap because the error texts are part of the surface
//! (`option --bogus not recognized`, `option --m not a unique prefix`, ...) and scripts and
//! tests compare them word for word; clap can emulate prefix matching but not these messages.

/// One option as getopt returns it: the spelling that matched (`-c` or `--configuration`, long
/// prefixes expanded) and its argument (empty when the option takes none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opt {
    pub name: String,
    pub value: String,
}

/// `getopt.GetoptError`; its text is what supervisor passes to `usage()`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GetoptError {
    #[error("option --{0} requires argument")]
    LongRequiresArgument(String),
    #[error("option --{0} must not have an argument")]
    LongTakesNoArgument(String),
    #[error("option --{0} not recognized")]
    LongNotRecognized(String),
    #[error("option --{0} not a unique prefix")]
    LongNotUnique(String),
    #[error("option -{0} requires argument")]
    ShortRequiresArgument(char),
    #[error("option -{0} not recognized")]
    ShortNotRecognized(char),
}

/// Parses `args` (without argv0) against `shortopts` (`"c:nh"`) and `longopts`
/// (`["configuration=", "nodaemon"]`), returning the options in order and the positional
/// arguments left after them.
pub fn getopt(
    args: &[String],
    shortopts: &str,
    longopts: &[&str],
) -> Result<(Vec<Opt>, Vec<String>), GetoptError> {
    let mut opts = Vec::new();
    let mut i = 0;
    while i < args.len() && args[i].starts_with('-') && args[i] != "-" {
        let arg = &args[i];
        i += 1;
        if arg == "--" {
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let (has_arg, full) = long_has_args(name, longopts)?;
            let value = if has_arg {
                match inline {
                    Some(v) => v,
                    None => {
                        let Some(next) = args.get(i) else {
                            return Err(GetoptError::LongRequiresArgument(full));
                        };
                        i += 1;
                        next.clone()
                    }
                }
            } else if inline.is_some() {
                return Err(GetoptError::LongTakesNoArgument(full));
            } else {
                String::new()
            };
            opts.push(Opt { name: format!("--{full}"), value });
        } else {
            let mut rest: &str = &arg[1..];
            while let Some(c) = rest.chars().next() {
                rest = &rest[c.len_utf8()..];
                let value = if short_has_arg(c, shortopts)? {
                    if rest.is_empty() {
                        let Some(next) = args.get(i) else {
                            return Err(GetoptError::ShortRequiresArgument(c));
                        };
                        i += 1;
                        next.clone()
                    } else {
                        std::mem::take(&mut rest).to_string()
                    }
                } else {
                    String::new()
                };
                opts.push(Opt { name: format!("-{c}"), value });
            }
        }
    }
    Ok((opts, args[i..].to_vec()))
}

fn long_has_args(opt: &str, longopts: &[&str]) -> Result<(bool, String), GetoptError> {
    let possibilities: Vec<&str> =
        longopts.iter().copied().filter(|o| o.starts_with(opt)).collect();
    if possibilities.is_empty() {
        return Err(GetoptError::LongNotRecognized(opt.to_string()));
    }
    if possibilities.contains(&opt) {
        return Ok((false, opt.to_string()));
    }
    if possibilities.contains(&format!("{opt}=").as_str()) {
        return Ok((true, opt.to_string()));
    }
    match possibilities.as_slice() {
        [only] => match only.strip_suffix('=') {
            Some(name) => Ok((true, name.to_string())),
            None => Ok((false, only.to_string())),
        },
        _ => Err(GetoptError::LongNotUnique(opt.to_string())),
    }
}

fn short_has_arg(opt: char, shortopts: &str) -> Result<bool, GetoptError> {
    let chars: Vec<char> = shortopts.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == opt && c != ':' {
            return Ok(chars.get(i + 1) == Some(&':'));
        }
    }
    Err(GetoptError::ShortNotRecognized(opt))
}

#[cfg(test)]
mod tests {
    use super::*;

    type Parsed = (Vec<(String, String)>, Vec<String>);

    fn run(args: &[&str]) -> Result<Parsed, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        getopt(&args, "c:nh?", &["configuration=", "nodaemon", "minfds=", "minprocs=", "help"])
            .map(|(o, a)| (o.into_iter().map(|o| (o.name, o.value)).collect(), a))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn short_forms() {
        let (opts, rest) = run(&["-nc", "x.conf", "-cy", "pos", "-n"]).unwrap();
        assert_eq!(
            opts,
            vec![
                ("-n".into(), "".into()),
                ("-c".into(), "x.conf".into()),
                ("-c".into(), "y".into())
            ]
        );
        assert_eq!(rest, vec!["pos", "-n"]);
        assert_eq!(run(&["-x"]).unwrap_err(), "option -x not recognized");
        assert_eq!(run(&["-c"]).unwrap_err(), "option -c requires argument");
        assert_eq!(run(&["-:"]).unwrap_err(), "option -: not recognized");
    }

    #[test]
    fn long_forms_and_prefixes() {
        let (opts, _) = run(&["--conf=a", "--nod", "--minf", "5"]).unwrap();
        assert_eq!(
            opts,
            vec![
                ("--configuration".into(), "a".into()),
                ("--nodaemon".into(), "".into()),
                ("--minfds".into(), "5".into())
            ]
        );
        assert_eq!(run(&["--min", "1"]).unwrap_err(), "option --min not a unique prefix");
        assert_eq!(run(&["--bogus"]).unwrap_err(), "option --bogus not recognized");
        assert_eq!(
            run(&["--nodaemon=1"]).unwrap_err(),
            "option --nodaemon must not have an argument"
        );
        assert_eq!(
            run(&["--configuration"]).unwrap_err(),
            "option --configuration requires argument"
        );
        let (opts, rest) = run(&["--configuration=", "--", "-n"]).unwrap();
        assert_eq!(opts, vec![("--configuration".into(), "".into())]);
        assert_eq!(rest, vec!["-n"]);
    }

    #[test]
    fn single_dash_stops() {
        let (opts, rest) = run(&["-", "-n"]).unwrap();
        assert!(opts.is_empty());
        assert_eq!(rest, vec!["-", "-n"]);
    }
}
