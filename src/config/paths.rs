//! Python's `posixpath` functions that decide how supervisor resolves config paths: `normpath`,
//! `abspath`, `dirname`, `join`.
//!
//! Ported rather than replaced by `std::path` because the results are visible (log file names,
//! `%(here)s`, socket paths) and `std::path` normalises differently (it keeps `..`, treats `//`
//! like `/`).

/// `posixpath.normpath`: collapses `.`, `..` and repeated slashes lexically, keeping exactly two
/// leading slashes as POSIX allows.
pub fn normpath(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let initial_slashes = if path.starts_with("//") && !path.starts_with("///") {
        2
    } else if path.starts_with('/') {
        1
    } else {
        0
    };
    let mut comps: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        if comp.is_empty() || comp == "." {
            continue;
        }
        let keep = comp != ".."
            || (initial_slashes == 0 && comps.is_empty())
            || comps.last() == Some(&"..");
        if keep {
            comps.push(comp);
        } else {
            comps.pop();
        }
    }
    let joined = format!("{}{}", "/".repeat(initial_slashes), comps.join("/"));
    if joined.is_empty() { ".".to_string() } else { joined }
}

/// The process's current directory as Python's `os.getcwd()` reports it; `.` if it is gone.
pub fn getcwd() -> String {
    std::env::current_dir().map(|p| p.to_string_lossy().into_owned()).unwrap_or_else(|_| ".".into())
}

/// `posixpath.abspath`: joined to the current directory when relative, then `normpath`.
pub fn abspath(path: &str) -> String {
    if path.starts_with('/') { normpath(path) } else { normpath(&join(&getcwd(), path)) }
}

/// `posixpath.split`: the head (everything before the last slash, trailing slashes removed
/// unless the head is all slashes) and the tail after it.
pub fn split(path: &str) -> (&str, &str) {
    let (head, tail) = path.split_at(path.rfind('/').map_or(0, |i| i + 1));
    if !head.is_empty() && head.bytes().any(|b| b != b'/') {
        (head.trim_end_matches('/'), tail)
    } else {
        (head, tail)
    }
}

/// `posixpath.dirname`: the head of [`split`].
pub fn dirname(path: &str) -> &str {
    split(path).0
}

/// `posixpath.join(a, b)`: an absolute `b` replaces `a`.
pub fn join(a: &str, b: &str) -> String {
    if b.starts_with('/') {
        b.to_string()
    } else if a.is_empty() || a.ends_with('/') {
        format!("{a}{b}")
    } else {
        format!("{a}/{b}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normpath_matches_posixpath() {
        for (input, want) in [
            ("", "."),
            ("/", "/"),
            ("//", "//"),
            ("///", "/"),
            ("//a/../b", "//b"),
            ("a/../..", ".."),
            ("/../a", "/a"),
            ("a/./b//c/", "a/b/c"),
            ("../../x/..", "../.."),
        ] {
            assert_eq!(normpath(input), want, "{input:?}");
        }
    }

    #[test]
    fn dirname_and_join_match_posixpath() {
        assert_eq!(dirname("/etc/supervisord.conf"), "/etc");
        assert_eq!(dirname("supervisord.conf"), "");
        assert_eq!(dirname("/x"), "/");
        assert_eq!(dirname("//x"), "//");
        assert_eq!(dirname("a//b"), "a");
        assert_eq!(join("/etc", "conf.d/*.conf"), "/etc/conf.d/*.conf");
        assert_eq!(join("/etc/", "x"), "/etc/x");
        assert_eq!(join("/etc", "/abs"), "/abs");
        assert_eq!(join("", "x"), "x");
        assert_eq!(join("a", ""), "a/");
        assert_eq!(split("a//b/"), ("a//b", ""));
        assert_eq!(split("//x"), ("//", "x"));
        assert_eq!(split("x"), ("", "x"));
    }
}
