//! Unit tests for the INI reader: one per `RawConfigParser._read` quirk, with the values the
//! Python 3.11 oracle gives.

use super::*;

fn parse(text: &str) -> IniParser {
    let mut parser = IniParser::new();
    if let Err(e) = parser.read(text, "test.conf") {
        panic!("unexpected error: {e}");
    }
    parser
}

fn error(text: &str) -> String {
    let mut parser = IniParser::new();
    match parser.read(text, "test.conf") {
        Ok(()) => panic!("expected an error for {text:?}"),
        Err(e) => e.to_string(),
    }
}

fn value(text: &str, option: &str) -> Option<String> {
    parse(text).get("s", option).map(str::to_string)
}

#[test]
fn inline_comment_needs_whitespace_before() {
    assert_eq!(value("[s]\na = b ;c\n", "a").as_deref(), Some("b"));
    assert_eq!(value("[s]\na = b;c\n", "a").as_deref(), Some("b;c"));
    assert_eq!(value("[s]\nb =;y\n", "b").as_deref(), Some(";y"));
    assert_eq!(value("[s]\nc = ;comment\n", "c").as_deref(), Some(""));
    assert_eq!(value("[s]\nd = x\t#y\n", "d").as_deref(), Some("x"));
    assert_eq!(value("[s]\nd = x\x1c#y\n", "d").as_deref(), Some("x"));
    assert_eq!(value("[s]\nd = x\u{3000};y\n", "d").as_deref(), Some("x"));
}

#[test]
fn inline_comment_search_runs_in_rounds() {
    assert_eq!(value("[s]\na=b;c d ;e #f\n", "a").as_deref(), Some("b;c d ;e"));
    assert_eq!(value("[s]\na=b#c d #e ;f\n", "a").as_deref(), Some("b#c d #e"));
    assert_eq!(value("[s]\na=x;1;2 ;3 #4\n", "a").as_deref(), Some("x;1;2 ;3"));
    assert_eq!(value("[s]\na=x ;1 #2\n", "a").as_deref(), Some("x"));
}

#[test]
fn indented_comment_is_a_comment_not_a_continuation() {
    let p = parse("[s]\na = 1\n    ; not part\n  # nor this\n  more\n");
    assert_eq!(p.get("s", "a"), Some("1\nmore"));
}

#[test]
fn continuation_needs_deeper_indent_than_the_option() {
    let p = parse("[s]\n  a = 1\n  b = 2\n   c\n");
    assert_eq!(p.get("s", "a"), Some("1"));
    assert_eq!(p.get("s", "b"), Some("2\nc"));
    assert_eq!(p.get("s", "c"), None);
}

#[test]
fn blank_lines_inside_values_are_kept_and_the_end_is_rstripped() {
    let p = parse("[s]\na = 1\n\n  2\n\n\nb = x\n\n\n");
    assert_eq!(p.get("s", "a"), Some("1\n\n2"));
    assert_eq!(p.get("s", "b"), Some("x"));
    assert_eq!(value("[s]\na =\n  x\n", "a").as_deref(), Some("\nx"));
}

#[test]
fn comment_line_inside_a_value_adds_no_blank_line() {
    assert_eq!(value("[s]\na = 1\n#c\n  2\n", "a").as_deref(), Some("1\n2"));
    assert_eq!(value("[s]\na = 1\n  ;c\n\n  2\n", "a").as_deref(), Some("1\n\n2"));
}

#[test]
fn indented_header_after_a_value_is_part_of_the_value() {
    let p = parse("[s]\na = 1\n  [t]\n");
    assert_eq!(p.get("s", "a"), Some("1\n[t]"));
    assert!(!p.has_section("t"));
}

#[test]
fn first_delimiter_wins() {
    let p = parse("[s]\nc : d = e\nf = g : h\nKey With Space  =  v\n");
    assert_eq!(p.get("s", "c"), Some("d = e"));
    assert_eq!(p.get("s", "f"), Some("g : h"));
    assert_eq!(p.get("s", "key with space"), Some("v"));
}

#[test]
fn option_names_are_lowercased_section_names_are_not() {
    let p = parse("[Sec]\nFOO = 1\n[ s ]\nx=1\n");
    assert_eq!(p.sections(), vec!["Sec", " s "]);
    assert_eq!(p.get("Sec", "foo"), Some("1"));
    assert_eq!(p.get("Sec", "FoO"), Some("1"));
    assert!(!p.has_section("sec"));
}

#[test]
fn header_is_greedy_to_the_last_bracket() {
    let p = parse("[s3]junk\na=1\n[a]b]\n[]]\n");
    assert_eq!(p.sections(), vec!["s3", "a]b", "]"]);
    assert!(error("[s]\n[]\n").contains("[line  2]: '[]\\n'"));
    assert!(error("[s]\n[]x\n").contains("[line  2]: '[]x\\n'"));
}

#[test]
fn header_may_carry_an_inline_comment() {
    let p = parse("[s] ;c\n[t;u]\n[v#w]\n");
    assert_eq!(p.sections(), vec!["s", "t;u", "v#w"]);
    // The comment cuts the bracket off, so this is no header.
    assert!(error("[s]\n[v #w]\n").contains("[line  2]: '[v #w]\\n'"));
}

#[test]
fn duplicates_merge_and_last_value_wins() {
    let p = parse("[s]\na = 1\nb = 2\n[t]\n[s]\na = 3\nA = 4\n");
    assert_eq!(p.sections(), vec!["s", "t"]);
    assert_eq!(p.items("s"), vec![("a", "4"), ("b", "2")]);
}

#[test]
fn defaults_are_inherited() {
    let p = parse("[DEFAULT]\nx = 1\ny = 2\n[s]\nz = 3\ny = 4\n");
    assert_eq!(p.sections(), vec!["s"]);
    assert!(!p.has_section("DEFAULT"));
    assert_eq!(p.items("s"), vec![("x", "1"), ("y", "4"), ("z", "3")]);
    assert_eq!(p.options("s"), vec!["z", "y", "x"]);
    assert_eq!(p.get("s", "x"), Some("1"));
    assert_eq!(p.get("DEFAULT", "y"), Some("2"));
    assert_eq!(p.get("nope", "x"), None);
    assert_eq!(p.get("", "x"), None);
    assert!(p.has_option("s", "X"));
    assert!(p.has_option("", "x"));
    assert!(p.has_option("DEFAULT", "y"));
    assert!(!p.has_option("DEFAULT", "z"));
    assert!(!p.has_option("nope", "x"));
    assert_eq!(p.defaults(), vec![("x", "1"), ("y", "2")]);
    assert_eq!(p.items("DEFAULT"), vec![("x", "1"), ("y", "2")]);
    assert!(p.options("DEFAULT").is_empty());
    assert!(parse("[default]\n").has_section("default"));
}

#[test]
fn no_quotes_escapes_or_percent_processing() {
    let p = parse("[s]\na = \"q\" \\n 100%% %(here)s\\\n");
    assert_eq!(p.get("s", "a"), Some("\"q\" \\n 100%% %(here)s\\"));
}

#[test]
fn universal_newlines() {
    let p = parse("[s]\r\na = 1\r  2\r\n\rb = 3\r");
    assert_eq!(p.get("s", "a"), Some("1\n2"));
    assert_eq!(p.get("s", "b"), Some("3"));
    assert_eq!(
        error("[s]\r\njunk\r"),
        "Source contains parsing errors: 'test.conf'\n\t[line  2]: 'junk\\n'"
    );
}

#[test]
fn only_newline_splits_lines() {
    // \x0c, \x0b, \x1c, \x85 and \u2028 end lines for str.splitlines but not for a file.
    let p = parse("[s]\na = 1\x0cb = 2\x0bc\x1cd\u{85}e\u{2028}f\n");
    assert_eq!(p.items("s"), vec![("a", "1\x0cb = 2\x0bc\x1cd\u{85}e\u{2028}f")]);
}

#[test]
fn python_whitespace_is_stripped() {
    let p = parse("[s]\n\x1fa\u{a0}=\u{3000} 1 \x1c\x1d\n");
    assert_eq!(p.items("s"), vec![("a", "1")]);
    // An indent of one wide character is one level, as Python counts characters.
    let p = parse("[s]\n\u{3000}a = 1\n\u{3000} b\n\u{3000}c = 2\n");
    assert_eq!(p.items("s"), vec![("a", "1\nb"), ("c", "2")]);
}

#[test]
fn missing_section_header() {
    assert_eq!(
        error("\n# c\na = 1\n[s]\n"),
        "File contains no section headers.\nfile: 'test.conf', line: 3\n'a = 1\\n'"
    );
    assert_eq!(
        error("  junk"),
        "File contains no section headers.\nfile: 'test.conf', line: 1\n'  junk'"
    );
}

#[test]
fn parsing_errors_are_collected_and_the_file_is_still_read() {
    let mut p = IniParser::new();
    let text = "[s]\njunk\na = 1\n= empty name\n[t]\n  x y\nb : 2\n  more\n";
    let err = match p.read(text, "it's.conf") {
        Ok(()) => panic!("expected errors"),
        Err(e) => e,
    };
    assert_eq!(
        err.to_string(),
        "Source contains parsing errors: \"it's.conf\"\n\t[line  2]: 'junk\\n'\n\
         \t[line  4]: '= empty name\\n'\n\t[line  6]: '  x y\\n'"
    );
    assert_eq!(p.items("s"), vec![("a", "1"), ("", "empty name")]);
    assert_eq!(p.items("t"), vec![("b", "2\nmore")]);
    // Python's bookkeeping runs only after a clean read.
    assert_eq!(p.section_file("s"), None);
}

#[test]
fn an_error_line_sets_the_indent_level() {
    // Line 3 is refused but still lowers the bar that continuation lines must pass.
    let mut p = IniParser::new();
    assert!(p.read("[s]\n   a = 1\noops\n y\n", "f").is_err());
    assert_eq!(p.get("s", "a"), Some("1\ny"));
}

#[test]
fn line_numbers_are_padded_to_two() {
    let text = format!("[s]\n{}junk\n", "\n".repeat(120));
    assert!(error(&text).ends_with("\t[line 122]: 'junk\\n'"));
}

#[test]
fn section_file_records_sections_created_by_each_read() {
    let mut p = IniParser::new();
    assert!(p.read("[a]\nx=1\n[DEFAULT]\nd=1\n", "one").is_ok());
    assert!(p.read("[a]\ny=2\n[b]\n", "two").is_ok());
    assert_eq!(p.section_file("a"), Some("one"));
    assert_eq!(p.section_file("b"), Some("two"));
    assert_eq!(p.section_file("DEFAULT"), None);
    assert_eq!(p.items("a"), vec![("d", "1"), ("x", "1"), ("y", "2")]);
}

#[test]
fn each_read_starts_without_a_section() {
    let mut p = IniParser::new();
    assert!(p.read("[a]\nx=1\n", "one").is_ok());
    let err = p.read("  y=2\n", "two");
    assert!(matches!(err, Err(IniError::MissingSectionHeader { lineno: 1, .. })));
}

#[test]
fn expand_here_copies_defaults_into_sections() {
    let mut p = parse("[DEFAULT]\nd = %(here)s/d\n[s]\na = %(here)s/%(here)s\nb = x\n");
    p.expand_here("/etc");
    assert_eq!(p.items("s"), vec![("d", "/etc/d"), ("a", "/etc//etc"), ("b", "x")]);
    assert_eq!(p.get("DEFAULT", "d"), Some("%(here)s/d"));
    assert_eq!(p.options("s"), vec!["a", "b", "d"]);
}

#[test]
fn set_follows_python() {
    let mut p = parse("[s]\n");
    p.set("s", "Key", "v");
    p.set("", "D", "1");
    p.set("missing", "k", "v");
    assert_eq!(p.items("s"), vec![("d", "1"), ("key", "v")]);
    assert!(!p.has_section("missing"));
}

#[test]
fn lower_matches_python() {
    assert_eq!(IniParser::optionxform("ABC"), "abc");
    assert_eq!(IniParser::optionxform("İ"), "i\u{307}");
    assert_eq!(IniParser::optionxform("ΟΔΟΣ"), "οδος");
    assert_eq!(IniParser::optionxform("ΟΔΟΣ."), "οδος.");
    assert_eq!(IniParser::optionxform("ΣΑ"), "σα");
    assert_eq!(IniParser::optionxform("Σ"), "σ");
    assert_eq!(IniParser::optionxform("Α\u{301}Σ"), "α\u{301}ς");
    // Unassigned in Unicode 14, so Python leaves it and it ends a word.
    assert_eq!(IniParser::optionxform("\u{A7CB}"), "\u{A7CB}");
    assert_eq!(IniParser::optionxform("ΑΣ\u{A7CB}"), "ας\u{A7CB}");
    assert_eq!(IniParser::optionxform("\u{295}Σ"), "\u{295}ς");
}

#[test]
fn empty_text_reads_nothing() {
    let p = parse("");
    assert!(p.sections().is_empty());
    assert!(parse("\n\n# only comments\n").sections().is_empty());
}
