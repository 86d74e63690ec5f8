//! Python 3.11's `glob.glob(pattern)` (non-recursive) and the `fnmatch` matching under it, for
//! `[include] files=`: same matches, same treatment of dotfiles, `**`, `[...]` classes and
//! trailing slashes.
//!
//! The `glob` crate differs from Python on dotfiles and `**` and rejects patterns Python accepts
//! (see DEPS.md §3), hence this port.

use crate::config::paths::{join, split};
use std::fs;
use std::path::Path;

/// Python's `glob.has_magic`: the text holds `*`, `?` or `[`.
pub fn has_magic(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Python 3.11 `glob.glob(pattern)` with `recursive=False`: results in directory-listing order
/// (callers sort), no match of names starting with `.` unless the pattern component starts with
/// `.`, `**` is an ordinary `*`, `[...]`/`[!...]` classes as `fnmatch.translate`, a pattern with
/// no magic returned if it lexists, Python's handling of trailing separators and of magic in
/// directory components. Never errors: unreadable directories yield nothing, as in Python.
/// Names that are not valid UTF-8 cannot be returned as `String` and are skipped.
pub fn glob(pattern: &str) -> Vec<String> {
    iglob(pattern, false)
}

/// `glob._iglob` with an empty `root_dir`; `dironly` keeps only directories when globbing the
/// directory part of a pattern.
fn iglob(pathname: &str, dironly: bool) -> Vec<String> {
    let (dirname, basename) = split(pathname);
    if !has_magic(pathname) {
        let found = if basename.is_empty() {
            // A pattern ending with a slash names only directories.
            is_dir(dirname)
        } else {
            lexists(pathname)
        };
        return if found { vec![pathname.to_string()] } else { Vec::new() };
    }
    if dirname.is_empty() {
        return glob1("", basename, dironly);
    }
    let dirs = if dirname != pathname && has_magic(dirname) {
        iglob(dirname, true)
    } else {
        vec![dirname.to_string()]
    };
    let mut out = Vec::new();
    for dir in dirs {
        let names = if has_magic(basename) {
            glob1(&dir, basename, dironly)
        } else {
            glob0(&dir, basename)
        };
        out.extend(names.iter().map(|name| join(&dir, name)));
    }
    out
}

/// `glob._glob1`: the names in `dirname` that match `pattern`; hidden names only when the
/// pattern itself starts with a dot.
fn glob1(dirname: &str, pattern: &str, dironly: bool) -> Vec<String> {
    let matcher = Pattern::new(pattern);
    let hidden_ok = pattern.starts_with('.');
    listdir(dirname, dironly)
        .into_iter()
        .filter(|name| hidden_ok || !name.starts_with('.'))
        .filter(|name| matcher.matches(name))
        .collect()
}

/// `glob._glob0`: a literal basename, if it exists (directories only when it is empty). Python
/// does not apply `dironly` here, so neither do we.
fn glob0(dirname: &str, basename: &str) -> Vec<String> {
    let found =
        if basename.is_empty() { is_dir(dirname) } else { lexists(&join(dirname, basename)) };
    if found { vec![basename.to_string()] } else { Vec::new() }
}

/// `glob._listdir`: entry names in listing order; a directory that cannot be read has none, and
/// a read error part way keeps what was read before it.
fn listdir(dirname: &str, dironly: bool) -> Vec<String> {
    let dir = if dirname.is_empty() { "." } else { dirname };
    let Ok(entries) = fs::read_dir(Path::new(dir)) else {
        return Vec::new();
    };
    let mut names = Vec::new();
    for entry in entries {
        let Ok(entry) = entry else { break };
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if dironly && !entry_is_dir(&entry) {
            continue;
        }
        names.push(name);
    }
    names
}

/// `os.DirEntry.is_dir()`: follows symlinks; errors count as "not a directory".
fn entry_is_dir(entry: &fs::DirEntry) -> bool {
    match entry.file_type() {
        Ok(t) if t.is_symlink() => fs::metadata(entry.path()).is_ok_and(|m| m.is_dir()),
        Ok(t) => t.is_dir(),
        Err(_) => false,
    }
}

/// `os.path.lexists`: any error (including a NUL in the path) is `false`.
fn lexists(p: &str) -> bool {
    !p.is_empty() && fs::symlink_metadata(Path::new(p)).is_ok()
}

/// `os.path.isdir`.
fn is_dir(p: &str) -> bool {
    !p.is_empty() && fs::metadata(Path::new(p)).is_ok_and(|m| m.is_dir())
}

/// One item of a character class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClassItem {
    Char(char),
    Range(char, char),
}

/// One element of a compiled `fnmatch` pattern; every kind but `Star` consumes one character.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Star,
    Any,
    Literal(char),
    Class {
        negated: bool,
        items: Vec<ClassItem>,
    },
    /// The `(?!)` that `translate` emits for an empty range such as `[z-a]`.
    Never,
}

impl Token {
    fn matches(&self, c: char) -> bool {
        match self {
            Token::Star | Token::Any => true,
            Token::Literal(l) => *l == c,
            Token::Class { negated, items } => {
                let inside = items.iter().any(|item| match *item {
                    ClassItem::Char(x) => x == c,
                    ClassItem::Range(lo, hi) => (lo..=hi).contains(&c),
                });
                inside != *negated
            }
            Token::Never => false,
        }
    }
}

/// A compiled `fnmatch` pattern: `fnmatch.translate`'s meaning, matched without a regex engine.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    tokens: Vec<Token>,
}

impl Pattern {
    /// Port of `fnmatch.translate`. A `[` with no closing `]` is literal; classes go through
    /// the same text rewriting as Python's so that its quirks (`[z-a!b]` meaning `[^b]`, say)
    /// carry over.
    fn new(pattern: &str) -> Pattern {
        let pat: Vec<char> = pattern.chars().collect();
        let n = pat.len();
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < n {
            let c = pat[i];
            i += 1;
            match c {
                '*' => {
                    if tokens.last() != Some(&Token::Star) {
                        tokens.push(Token::Star);
                    }
                }
                '?' => tokens.push(Token::Any),
                '[' => {
                    let mut j = i;
                    if j < n && pat[j] == '!' {
                        j += 1;
                    }
                    if j < n && pat[j] == ']' {
                        j += 1;
                    }
                    while j < n && pat[j] != ']' {
                        j += 1;
                    }
                    if j >= n {
                        tokens.push(Token::Literal('['));
                    } else {
                        tokens.push(class_token(&pat, i, j));
                        i = j + 1;
                    }
                }
                c => tokens.push(Token::Literal(c)),
            }
        }
        Pattern { tokens }
    }

    /// Whole-name match; `*` and `?` match any character, newlines included.
    fn matches(&self, name: &str) -> bool {
        let text: Vec<char> = name.chars().collect();
        let tokens = &self.tokens;
        let (mut t, mut p) = (0, 0);
        // Where to resume after the most recent star: (token after it, text position).
        let mut backtrack: Option<(usize, usize)> = None;
        while t < text.len() {
            match tokens.get(p) {
                Some(Token::Star) => {
                    backtrack = Some((p + 1, t));
                    p += 1;
                }
                Some(token) if token.matches(text[t]) => {
                    p += 1;
                    t += 1;
                }
                _ => match backtrack {
                    Some((bp, bt)) => {
                        backtrack = Some((bp, bt + 1));
                        p = bp;
                        t = bt + 1;
                    }
                    None => return false,
                },
            }
        }
        tokens[p.min(tokens.len())..].iter().all(|token| *token == Token::Star)
    }
}

/// The class between `pat[start]` (just after `[`) and `pat[end]` (its `]`): the regex text
/// `fnmatch.translate` would build, read back the way `re` parses a set.
fn class_token(pat: &[char], start: usize, end: usize) -> Token {
    let escape = |chunk: &[char], out: &mut String| {
        for &c in chunk {
            if c == '\\' || c == '-' {
                out.push('\\');
            }
            out.push(c);
        }
    };
    let stuff_raw = &pat[start..end];
    let mut stuff = String::new();
    if !stuff_raw.contains(&'-') {
        for &c in stuff_raw {
            if c == '\\' {
                stuff.push('\\');
            }
            stuff.push(c);
        }
    } else {
        // Split at the hyphens that form ranges; a hyphen right after `[` or `[!`, or right
        // after a range, is an ordinary character.
        let mut chunks: Vec<Vec<char>> = Vec::new();
        let mut i = start;
        let mut k = if pat[start] == '!' { start + 2 } else { start + 1 };
        while let Some(found) = pat.get(k..end).and_then(|rest| rest.iter().position(|&c| c == '-'))
        {
            let dash = k + found;
            chunks.push(pat[i..dash].to_vec());
            i = dash + 1;
            k = dash + 3;
        }
        let last = &pat[i..end];
        if !last.is_empty() {
            chunks.push(last.to_vec());
        } else if let Some(prev) = chunks.last_mut() {
            prev.push('-');
        }
        // Drop empty ranges (like `z-a`) by merging their neighbours, right to left.
        for k in (1..chunks.len()).rev() {
            let (Some(&lo), Some(&hi)) = (chunks[k - 1].last(), chunks[k].first()) else {
                continue;
            };
            if lo > hi {
                let right = chunks.remove(k);
                let left = &mut chunks[k - 1];
                left.pop();
                left.extend_from_slice(&right[1..]);
            }
        }
        for (idx, chunk) in chunks.iter().enumerate() {
            if idx > 0 {
                stuff.push('-');
            }
            escape(chunk, &mut stuff);
        }
    }
    // Escape the set operations (`&&`, `~~`, `||`) Python's `re` reserves.
    let mut escaped = String::with_capacity(stuff.len());
    for c in stuff.chars() {
        if matches!(c, '&' | '~' | '|') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    if escaped.is_empty() {
        return Token::Never;
    }
    if escaped == "!" {
        return Token::Any;
    }
    let set = if let Some(rest) = escaped.strip_prefix('!') {
        format!("^{rest}")
    } else if escaped.starts_with(['^', '[']) {
        format!("\\{escaped}")
    } else {
        escaped
    };
    parse_regex_set(&set)
}

/// Reads the inside of a regex `[...]` the way Python's `re` parser does, for the subset of
/// syntax `class_token` produces (escapes are always of punctuation, hence literal).
fn parse_regex_set(set: &str) -> Token {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Item {
        Plain(char),
        Escaped(char),
    }
    let mut items: Vec<Item> = Vec::new();
    let mut chars = set.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(e) => items.push(Item::Escaped(e)),
                None => return Token::Never,
            }
        } else {
            items.push(Item::Plain(c));
        }
    }
    // The closing bracket `translate` appends.
    items.push(Item::Plain(']'));
    let value = |item: Item| match item {
        Item::Plain(c) | Item::Escaped(c) => c,
    };

    let mut pos = 0;
    let negated = items.first() == Some(&Item::Plain('^'));
    if negated {
        pos += 1;
    }
    let mut out: Vec<ClassItem> = Vec::new();
    loop {
        let Some(&this) = items.get(pos) else {
            // re.error("unterminated character set"); unreachable for translate's output.
            return Token::Never;
        };
        pos += 1;
        if this == Item::Plain(']') && !out.is_empty() {
            break;
        }
        let lo = value(this);
        if items.get(pos) == Some(&Item::Plain('-')) {
            pos += 1;
            let Some(&that) = items.get(pos) else {
                return Token::Never;
            };
            pos += 1;
            if that == Item::Plain(']') {
                out.push(ClassItem::Char(lo));
                out.push(ClassItem::Char('-'));
                break;
            }
            let hi = value(that);
            if hi < lo {
                // re.error("bad character range"); translate removes such ranges first.
                return Token::Never;
            }
            out.push(ClassItem::Range(lo, hi));
        } else {
            out.push(ClassItem::Char(lo));
        }
    }
    Token::Class { negated, items: out }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;

    fn fnmatch(name: &str, pattern: &str) -> bool {
        Pattern::new(pattern).matches(name)
    }

    #[test]
    fn fnmatch_basics() {
        assert!(fnmatch("abc", "a*"));
        assert!(fnmatch("abc", "*c"));
        assert!(fnmatch("abc", "a?c"));
        assert!(fnmatch("a\nc", "a?c"));
        assert!(fnmatch("", "*"));
        assert!(!fnmatch("", "?"));
        assert!(fnmatch("aXbXc", "a*b*c"));
        assert!(!fnmatch("aXbXd", "a*b*c"));
        assert!(fnmatch("abcabc", "**abc"));
        assert!(fnmatch("a[b", "a[b"));
        assert!(fnmatch("a[]", "a[]"));
        assert!(fnmatch("a[!]", "a[!]"));
        assert!(fnmatch("a\\b", "a\\b"));
    }

    #[test]
    fn fnmatch_classes() {
        assert!(fnmatch("b", "[abc]"));
        assert!(!fnmatch("d", "[abc]"));
        assert!(fnmatch("d", "[!abc]"));
        assert!(fnmatch("]", "[]]"));
        assert!(fnmatch("]", "[]-a]"));
        assert!(!fnmatch("]", "[!]]"));
        assert!(fnmatch("m", "[a-z]"));
        assert!(fnmatch("-", "[a-]"));
        assert!(fnmatch("-", "[-a]"));
        assert!(!fnmatch("-", "[!-a]"));
        assert!(!fnmatch("a", "[z-a]"));
        assert!(fnmatch("a", "[!z-a]"));
        assert!(fnmatch("b", "[a--b]"));
        assert!(!fnmatch("a", "[a--b]"));
        // `[z-a!b]` becomes `[^b]`, as in Python.
        assert!(fnmatch("x", "[z-a!b]"));
        assert!(!fnmatch("b", "[z-a!b]"));
        assert!(fnmatch("^", "[^]"));
        assert!(fnmatch("\\", "[\\]"));
        assert!(fnmatch("&", "[&&]"));
        assert!(fnmatch("_", "[^-a]"));
        assert!(fnmatch("é", "[à-ú]"));
    }

    #[test]
    fn glob_on_a_tree() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_str().unwrap().to_string();
        for f in ["a.conf", ".hidden.conf", "b.txt", "we[ird].conf"] {
            File::create(dir.path().join(f)).unwrap();
        }
        fs::create_dir(dir.path().join("sub")).unwrap();
        File::create(dir.path().join("sub/c.conf")).unwrap();
        let sorted = |p: String| {
            let mut v = glob(&p);
            v.sort();
            v
        };
        assert_eq!(
            sorted(format!("{root}/*.conf")),
            vec![format!("{root}/a.conf"), format!("{root}/we[ird].conf")]
        );
        assert_eq!(sorted(format!("{root}/.*.conf")), vec![format!("{root}/.hidden.conf")]);
        assert_eq!(sorted(format!("{root}/**/*.conf")), vec![format!("{root}/sub/c.conf")]);
        assert_eq!(sorted(format!("{root}/*/")), vec![format!("{root}/sub/")]);
        assert_eq!(sorted(format!("{root}/b.txt")), vec![format!("{root}/b.txt")]);
        assert_eq!(sorted(format!("{root}/b.txt/")), Vec::<String>::new());
        assert_eq!(sorted(format!("{root}/sub//")), vec![format!("{root}/sub//")]);
        assert_eq!(sorted(format!("{root}/we[[]ird].conf")), vec![format!("{root}/we[ird].conf")]);
        assert_eq!(sorted(format!("{root}/nope/*")), Vec::<String>::new());
        assert_eq!(glob(""), Vec::<String>::new());
    }
}
