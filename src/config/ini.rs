//! The INI reader: Python 3.11 `configparser.RawConfigParser` as supervisor's
//! `UnhosedConfigParser` configures it, from raw file text to raw string sections.
//!
//! Supervisor's settings are `inline_comment_prefixes=(';', '#')`, `strict=False`, and the stdlib
//! defaults for the rest: `#`/`;` full-line comments, `=`/`:` delimiters, blank lines kept inside
//! values, no valueless options, `[DEFAULT]` as the defaults section, option names lowercased and no
//! interpolation (supervisor expands `%(name)s` itself later). Every rule here mirrors a line of
//! `RawConfigParser._read`, including its oddities, because configs that Python accepts or rejects
//! must mean the same here.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::python::{is_space, repr, strip};

const DEFAULT_SECTION: &str = "DEFAULT";
const COMMENT_PREFIXES: [char; 2] = ['#', ';'];
/// The order matters: it is the order of Python's per-round search (see [`inline_comment_start`]).
const INLINE_COMMENT_PREFIXES: [u8; 2] = [b';', b'#'];
const HERE_FORMAT: &str = "%(here)s";

/// The two errors `RawConfigParser._read` raises with supervisor's settings (the strict-mode
/// duplicate errors cannot happen). `Display` is Python's `str(exc)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IniError {
    /// A non-blank, non-comment line before the first section header. Python raises this at
    /// once, so nothing from the file has been stored.
    #[error(
        "File contains no section headers.\nfile: {}, line: {lineno}\n{}",
        repr(file),
        repr(line)
    )]
    MissingSectionHeader {
        file: String,
        lineno: usize,
        /// The raw line, with its `\n` when it had one.
        line: String,
    },
    /// Every line that was neither a header, an option nor a continuation, raised once the whole
    /// file has been read (and stored, as Python does).
    #[error("{}", parsing_message(file, errors))]
    Parsing {
        file: String,
        /// `(line number, raw line with its \n)` in file order.
        errors: Vec<(usize, String)>,
    },
}

fn parsing_message(file: &str, errors: &[(usize, String)]) -> String {
    let mut message = format!("Source contains parsing errors: {}", repr(file));
    for (lineno, line) in errors {
        message.push_str(&format!("\n\t[line {lineno:2}]: {}", repr(line)));
    }
    message
}

/// An insertion-ordered string map with Python dict semantics: assigning an existing key keeps
/// its original position.
#[derive(Debug, Clone, Default)]
struct OptionMap {
    entries: Vec<(String, String)>,
    index: HashMap<String, usize>,
}

impl OptionMap {
    fn get(&self, key: &str) -> Option<&str> {
        self.index.get(key).map(|&i| self.entries[i].1.as_str())
    }

    fn contains(&self, key: &str) -> bool {
        self.index.contains_key(key)
    }

    /// Returns the entry's position, which stays valid because entries are never removed.
    fn set(&mut self, key: String, value: String) -> usize {
        if let Some(&i) = self.index.get(&key) {
            self.entries[i].1 = value;
            i
        } else {
            let i = self.entries.len();
            self.index.insert(key.clone(), i);
            self.entries.push((key, value));
            i
        }
    }
}

/// Where `_read`'s `cursect` points: the defaults dict or one of the sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Defaults,
    Section(usize),
}

/// The parsed configuration: `[DEFAULT]`, the other sections in creation order, and the file each
/// section came from.
#[derive(Debug, Clone, Default)]
pub struct IniParser {
    defaults: OptionMap,
    sections: Vec<(String, OptionMap)>,
    section_index: HashMap<String, usize>,
    section_to_file: HashMap<String, String>,
}

impl IniParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Python's `str.lower()`, which is what `RawConfigParser.optionxform` applies to every option
    /// name, in the Unicode version Python 3.11 knows.
    pub fn optionxform(option: &str) -> String {
        crate::python::lower(option)
    }

    /// Parses one file's text the way RawConfigParser.read_file does after Python's
    /// universal-newline decoding (the `\r\n` and `\r` to `\n` translation happens here).
    /// `source` is the name used in error messages. Every section this call creates is recorded
    /// with `source` (UnhosedConfigParser.read's section_to_file), but only when the call
    /// succeeds: Python's ParsingError escapes before that bookkeeping, while the sections and
    /// values read up to then stay stored.
    pub fn read(&mut self, text: &str, source: &str) -> Result<(), IniError> {
        let text = universal_newlines(text);
        let sections_before = self.sections.len();
        let mut cursect: Option<Target> = None;
        // `optname` in Python; None also when the name is empty, since Python tests it for truth.
        let mut current: Option<usize> = None;
        let mut indent_level = 0usize;
        let mut errors: Vec<(usize, String)> = Vec::new();
        // The values that are still line lists in Python, joined and rstripped at the end.
        let mut pending: Vec<(Target, usize)> = Vec::new();

        // The file iterator splits on '\n' only, unlike str.splitlines.
        for (lineno, line) in (1..).zip(text.split_inclusive('\n')) {
            let mut comment_start = inline_comment_start(line);
            if strip(line).starts_with(COMMENT_PREFIXES) {
                comment_start = Some(0);
            }
            let value = strip(&line[..comment_start.unwrap_or(line.len())]);
            if value.is_empty() {
                // A blank line belongs to the value being read, but a comment line does not.
                if comment_start.is_none()
                    && let (Some(target), Some(entry)) = (cursect, current)
                {
                    self.map_mut(target).entries[entry].1.push('\n');
                }
                continue;
            }
            let cur_indent_level = line.chars().take_while(|&c| is_space(c)).count();
            if let (Some(target), Some(entry), true) =
                (cursect, current, cur_indent_level > indent_level)
            {
                let stored = &mut self.map_mut(target).entries[entry].1;
                stored.push('\n');
                stored.push_str(value);
                continue;
            }
            indent_level = cur_indent_level;
            if let Some(name) = section_header(value) {
                cursect = Some(self.open_section(name));
                current = None;
            } else if let Some(target) = cursect {
                match split_option(value) {
                    Some((name, optval)) => {
                        if name.is_empty() {
                            // Python records the error and still stores the option under ''.
                            errors.push((lineno, line.to_string()));
                        }
                        let entry = self
                            .map_mut(target)
                            .set(crate::python::lower(name), optval.to_string());
                        pending.push((target, entry));
                        current = (!name.is_empty()).then_some(entry);
                    }
                    None => errors.push((lineno, line.to_string())),
                }
            } else {
                return Err(IniError::MissingSectionHeader {
                    file: source.to_string(),
                    lineno,
                    line: line.to_string(),
                });
            }
        }

        // `_join_multiline_values`: the lines were joined with '\n' as they came.
        for (target, entry) in pending {
            let stored = &mut self.map_mut(target).entries[entry].1;
            let kept = stored.trim_end_matches(is_space).len();
            stored.truncate(kept);
        }
        if !errors.is_empty() {
            return Err(IniError::Parsing { file: source.to_string(), errors });
        }
        for (name, _) in &self.sections[sections_before..] {
            self.section_to_file.insert(name.clone(), source.to_string());
        }
        Ok(())
    }

    /// The section a header names, created when new; `[DEFAULT]` is the defaults.
    fn open_section(&mut self, name: &str) -> Target {
        if let Some(&i) = self.section_index.get(name) {
            Target::Section(i)
        } else if name == DEFAULT_SECTION {
            Target::Defaults
        } else {
            let i = self.sections.len();
            self.section_index.insert(name.to_string(), i);
            self.sections.push((name.to_string(), OptionMap::default()));
            Target::Section(i)
        }
    }

    fn map_mut(&mut self, target: Target) -> &mut OptionMap {
        match target {
            Target::Defaults => &mut self.defaults,
            Target::Section(i) => &mut self.sections[i].1,
        }
    }

    fn section(&self, section: &str) -> Option<&OptionMap> {
        self.section_index.get(section).map(|&i| &self.sections[i].1)
    }

    /// Section names in creation order, without DEFAULT.
    pub fn sections(&self) -> Vec<&str> {
        self.sections.iter().map(|(name, _)| name.as_str()).collect()
    }

    /// False for "DEFAULT", as in Python.
    pub fn has_section(&self, section: &str) -> bool {
        self.section_index.contains_key(section)
    }

    /// Python's `has_option`: an empty section name or "DEFAULT" asks about the defaults; a
    /// missing section has no options; otherwise the section's own options and the defaults count.
    pub fn has_option(&self, section: &str, option: &str) -> bool {
        let option = crate::python::lower(option);
        if section.is_empty() || section == DEFAULT_SECTION {
            return self.defaults.contains(&option);
        }
        match self.section(section) {
            Some(map) => map.contains(&option) || self.defaults.contains(&option),
            None => false,
        }
    }

    /// RawConfigParser.get: the section's own value, else `[DEFAULT]`'s; None when absent
    /// (also when the section does not exist).
    pub fn get(&self, section: &str, option: &str) -> Option<&str> {
        let option = crate::python::lower(option);
        match self.section(section) {
            Some(map) => map.get(&option).or_else(|| self.defaults.get(&option)),
            None if section == DEFAULT_SECTION => self.defaults.get(&option),
            None => None,
        }
    }

    /// The section's own option names, then the defaults it does not override. Empty for a
    /// missing section and for "DEFAULT" (where Python raises NoSectionError).
    pub fn options(&self, section: &str) -> Vec<&str> {
        let Some(map) = self.section(section) else {
            return Vec::new();
        };
        let own = map.entries.iter().map(|(key, _)| key.as_str());
        let inherited = self
            .defaults
            .entries
            .iter()
            .filter(|(key, _)| !map.contains(key))
            .map(|(key, _)| key.as_str());
        own.chain(inherited).collect()
    }

    /// Python's `items(section)`: the defaults first, in their order but with the section's
    /// values where it overrides them, then the section's other options. "DEFAULT" gives the
    /// defaults; a missing section gives nothing (Python raises NoSectionError).
    pub fn items(&self, section: &str) -> Vec<(&str, &str)> {
        let map = match self.section(section) {
            Some(map) => map,
            None if section == DEFAULT_SECTION => return self.defaults(),
            None => return Vec::new(),
        };
        let inherited = self
            .defaults
            .entries
            .iter()
            .map(|(key, value)| (key.as_str(), map.get(key).unwrap_or(value.as_str())));
        let own = map
            .entries
            .iter()
            .filter(|(key, _)| !self.defaults.contains(key))
            .map(|(key, value)| (key.as_str(), value.as_str()));
        inherited.chain(own).collect()
    }

    /// The `[DEFAULT]` options in order.
    pub fn defaults(&self) -> Vec<(&str, &str)> {
        self.defaults.entries.iter().map(|(key, value)| (key.as_str(), value.as_str())).collect()
    }

    /// Python's `set`: an empty section name or "DEFAULT" sets a default; the option name is
    /// lowercased. Setting into a missing section does nothing here (Python raises
    /// NoSectionError, which supervisor never triggers).
    pub fn set(&mut self, section: &str, option: &str, value: &str) {
        let target = if section.is_empty() || section == DEFAULT_SECTION {
            Target::Defaults
        } else {
            match self.section_index.get(section) {
                Some(&i) => Target::Section(i),
                None => return,
            }
        };
        self.map_mut(target).set(crate::python::lower(option), value.to_string());
    }

    /// The file whose `read` created the section (UnhosedConfigParser.section_to_file).
    pub fn section_file(&self, section: &str) -> Option<&str> {
        self.section_to_file.get(section).map(String::as_str)
    }

    /// UnhosedConfigParser.expand_here: in every section's items, replace literal `%(here)s` by
    /// `here` and set it into that section (so DEFAULT values are copied into the section this
    /// way, while `[DEFAULT]` itself keeps the literal).
    pub fn expand_here(&mut self, here: &str) {
        for i in 0..self.sections.len() {
            let name = self.sections[i].0.clone();
            let updates: Vec<(String, String)> = self
                .items(&name)
                .into_iter()
                .filter(|(_, value)| value.contains(HERE_FORMAT))
                .map(|(key, value)| (key.to_string(), value.replace(HERE_FORMAT, here)))
                .collect();
            for (key, value) in updates {
                self.sections[i].1.set(key, value);
            }
        }
    }
}

/// What Python's text-mode file does with line endings before `_read` sees the lines.
fn universal_newlines(text: &str) -> Cow<'_, str> {
    if text.contains('\r') {
        Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(text)
    }
}

/// Where an inline comment starts: a prefix counts only at the start of the line or after
/// whitespace. Python searches in rounds, one occurrence of each prefix per round, and stops after
/// the first round that finds a qualifying one, so `b;c d ;e #f` loses only `#f`: the `#` is a
/// first occurrence while the `;` after whitespace is a second one.
fn inline_comment_start(line: &str) -> Option<usize> {
    // Byte positions work because both prefixes are ASCII.
    let mut searching: Vec<(u8, usize)> = INLINE_COMMENT_PREFIXES.iter().map(|&p| (p, 0)).collect();
    let mut found: Option<usize> = None;
    while found.is_none() && !searching.is_empty() {
        let mut next = Vec::with_capacity(searching.len());
        for (prefix, from) in searching {
            let Some(offset) = line.as_bytes()[from..].iter().position(|&b| b == prefix) else {
                continue;
            };
            let index = from + offset;
            next.push((prefix, index + 1));
            let after_space = line[..index].chars().next_back().is_none_or(is_space);
            if after_space {
                found = Some(found.map_or(index, |f| f.min(index)));
            }
        }
        searching = next;
    }
    found
}

/// `SECTCRE = \[(?P<header>.+)\]` matched at the start: greedy, so the name runs to the last `]`
/// and anything after it is ignored; the name is neither trimmed nor case-folded, and `[]` is no
/// header.
fn section_header(value: &str) -> Option<&str> {
    let rest = value.strip_prefix('[')?;
    let close = rest.rfind(']')?;
    (close > 0).then(|| &rest[..close])
}

/// `OPTCRE` with delimiters `=` and `:`: the name runs up to the first delimiter minus the
/// whitespace before it, the value is the rest, stripped. None when there is no delimiter.
fn split_option(value: &str) -> Option<(&str, &str)> {
    let delimiter = value.find(['=', ':'])?;
    let name = value[..delimiter].trim_end_matches(is_space);
    Some((name, strip(&value[delimiter + 1..])))
}

#[cfg(test)]
mod tests;
