//! `SectionReader`: supervisor's `saneget` over the raw INI sections, i.e. one option's value
//! after `%(name)s` expansion with the names that option is allowed to see.

use crate::config::ConfigError;
use crate::config::datatypes::{boolean, integer};
use crate::config::expand::{Expansions, expand};
use crate::config::ini::IniParser;

pub(crate) struct SectionReader<'a> {
    pub parser: &'a IniParser,
    /// `%(here)s`: the directory of the main config file.
    pub here: String,
    /// The `-c` path as given, named in errors for sections of the main file.
    pub configfile: &'a str,
    pub host_node_name: &'a str,
    /// `ENV_*` for supervisord's environment, later extended by `[supervisord] environment`.
    pub environ: Expansions,
    pub warnings: Vec<String>,
}

impl SectionReader<'_> {
    /// `{'here': ...}`, the extra names most sections see.
    pub fn here(&self) -> Expansions {
        let mut e = Expansions::new();
        e.insert_str("here", self.here.clone());
        e
    }

    /// The option's value expanded with `ENV_*` and then `extra` (extra wins on a clash, as in
    /// Python's dict merge); `None` when the option is absent from the section and `[DEFAULT]`.
    pub fn get(
        &self,
        section: &str,
        option: &str,
        extra: &Expansions,
    ) -> Result<Option<String>, ConfigError> {
        let Some(raw) = self.parser.get(section, option) else {
            return Ok(None);
        };
        // `s % mapping` without a `%` in `s` returns `s` untouched, so skip building the dict.
        if !raw.contains('%') {
            return Ok(Some(raw.to_string()));
        }
        let mut combined = self.environ.clone();
        combined.extend(extra);
        Ok(Some(expand(raw, &combined, &format!("{section}.{option}"))?))
    }

    /// An integer option read with `{here}`, the way group-level options are.
    pub fn get_int(&self, section: &str, option: &str, default: i64) -> Result<i64, ConfigError> {
        match self.get(section, option, &self.here())? {
            Some(v) => Ok(integer(&v)?),
            None => Ok(default),
        }
    }

    pub fn get_bool(
        &self,
        section: &str,
        option: &str,
        default: bool,
    ) -> Result<bool, ConfigError> {
        match self.get(section, option, &self.here())? {
            Some(v) => Ok(boolean(&v)?),
            None => Ok(default),
        }
    }
}
