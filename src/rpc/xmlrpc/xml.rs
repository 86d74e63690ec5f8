//! XML 1.0 well-formedness exactly as expat 2.5 judges it (expat is the parser under both
//! Python's ElementTree, which supervisor parses requests with, and `xmlrpc.client`), reporting
//! elements and character data to a [`Handler`].
//!
//! Whether a malformed body is refused is part of the daemon's observable behaviour (HTTP 400 vs a
//! dispatched call), so every rule here was checked against expat: its name-character tables
//! (the XML 1.0 first-edition classes, BMP only), its XML-declaration grammar, its namespace
//! checks when ElementTree turns them on, and its character-reference limits. One deliberate
//! difference: a DOCTYPE internal subset holding declarations is refused rather than
//! interpreted, so entity definitions (and their expansion bombs) never reach the daemon.

use std::collections::{HashMap, HashSet};
use std::fmt;

/// Where and why a document is not well-formed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct XmlError {
    pub(crate) offset: usize,
    pub(crate) reason: &'static str,
}

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.reason, self.offset)
    }
}

/// An element's name as the consumer sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ElementName<'a> {
    /// The name as written, prefix included.
    pub(crate) qname: &'a str,
    /// The part after the prefix when namespaces are processed, else the whole name.
    pub(crate) local: &'a str,
    /// Namespaces are processed and the element is in one, so ElementTree calls it
    /// `{uri}local` and it can never match a plain tag name.
    pub(crate) namespaced: bool,
}

/// Receives a well-formed document's structure; any error it returns stops the parse.
pub(crate) trait Handler {
    type Error: From<XmlError>;
    fn start(&mut self, name: &ElementName<'_>) -> Result<(), Self::Error>;
    /// Character data in document order, possibly in several pieces; never called outside the
    /// root element.
    fn text(&mut self, text: &str) -> Result<(), Self::Error>;
    fn end(&mut self, name: &ElementName<'_>) -> Result<(), Self::Error>;
}

/// Whether prefixes are resolved (ElementTree creates its expat parser with a namespace
/// separator; `xmlrpc.client` does not, so there a colon is just a name character).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Namespaces {
    Ignored,
    Processed,
}

/// Elements nested deeper than this are refused: Python copes with any depth, but our values
/// are recursive and a hostile body must not be able to exhaust a worker thread's stack.
pub(crate) const MAX_DEPTH: usize = 1000;

const XML_NAMESPACE: &str = "http://www.w3.org/XML/1998/namespace";
const XMLNS_NAMESPACE: &str = "http://www.w3.org/2000/xmlns/";

/// Parses `doc` (already decoded; a leading U+FEFF is a byte-order mark) and reports it to
/// `handler`.
pub(crate) fn parse<H: Handler>(
    doc: &str,
    namespaces: Namespaces,
    handler: &mut H,
) -> Result<(), H::Error> {
    let mut reader = Reader {
        doc,
        bytes: doc.as_bytes(),
        pos: 0,
        namespaces: namespaces == Namespaces::Processed,
        handler,
        open: Vec::new(),
        scopes: Scopes::default(),
    };
    reader.document()
}

struct Open<'d> {
    qname: &'d str,
    local: &'d str,
    namespaced: bool,
    /// `scopes.log.len()` before this element's declarations, restored when it closes.
    scopes_mark: usize,
}

/// The namespace declarations in scope, kept per prefix so that a hostile body declaring
/// thousands of prefixes cannot make every lookup slow.
#[derive(Default)]
struct Scopes<'d> {
    /// Innermost last; `None` is `xmlns=""`, which undeclares the default namespace.
    default: Vec<Option<String>>,
    prefixes: HashMap<&'d str, Vec<String>>,
    /// Which prefix each declaration bound (`None` for the default), to undo them in order.
    log: Vec<Option<&'d str>>,
}

impl<'d> Scopes<'d> {
    fn push(&mut self, prefix: Option<&'d str>, uri: Option<String>) {
        match (prefix, uri) {
            (Some(prefix), Some(uri)) => self.prefixes.entry(prefix).or_default().push(uri),
            (Some(_), None) => return,
            (None, uri) => self.default.push(uri),
        }
        self.log.push(prefix);
    }

    fn truncate(&mut self, len: usize) {
        while self.log.len() > len {
            match self.log.pop() {
                Some(Some(prefix)) => {
                    if let Some(uris) = self.prefixes.get_mut(prefix) {
                        uris.pop();
                    }
                }
                Some(None) => {
                    self.default.pop();
                }
                None => break,
            }
        }
    }

    fn lookup(&self, prefix: &str) -> Option<&str> {
        match self.prefixes.get(prefix).and_then(|uris| uris.last()) {
            Some(uri) => Some(uri),
            None => (prefix == "xml").then_some(XML_NAMESPACE),
        }
    }

    fn default_namespace(&self) -> Option<&str> {
        self.default.last().and_then(|uri| uri.as_deref())
    }
}

struct Attribute<'d> {
    name: &'d str,
    colon: Option<usize>,
    value: String,
}

struct Reader<'d, 'h, H> {
    doc: &'d str,
    bytes: &'d [u8],
    pos: usize,
    namespaces: bool,
    handler: &'h mut H,
    open: Vec<Open<'d>>,
    scopes: Scopes<'d>,
}

fn is_s(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn in_table(table: &[(u32, u32)], c: char) -> bool {
    let cp = c as u32;
    let i = table.partition_point(|&(lo, _)| lo <= cp);
    i > 0 && cp <= table[i - 1].1
}

fn is_name_start(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphabetic() || c == '_' || c == ':'
    } else {
        in_table(NAME_START_NON_ASCII, c)
    }
}

fn is_name_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '-' | '.')
    } else {
        in_table(NAME_CHAR_NON_ASCII, c)
    }
}

/// XML's `Char` production for a referenced code point.
fn is_xml_char(cp: u32) -> bool {
    matches!(cp, 0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
}

/// `Char` for raw UTF-8: controls other than tab, LF and CR, and U+FFFE/U+FFFF, are refused
/// (a `&str` holds no surrogates, so nothing else can be wrong).
fn is_bad_raw_byte(bytes: &[u8], i: usize) -> bool {
    let b = bytes[i];
    (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
        || (b == 0xEF
            && bytes.get(i + 1) == Some(&0xBF)
            && matches!(bytes.get(i + 2), Some(0xBE | 0xBF)))
}

/// Expat's end-of-line handling: CR LF and lone CR both become LF.
fn normalize_newlines(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\r') {
        std::borrow::Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// One pseudo-attribute of the XML declaration, parsed the way expat's
/// `parsePseudoAttribute` does: ASCII only, values restricted to `[A-Za-z0-9._-]`.
enum Pseudo<'a> {
    End,
    Attr { name: &'a [u8], value: &'a [u8] },
}

fn pseudo_attribute<'a>(s: &'a [u8], i: &mut usize) -> Option<Pseudo<'a>> {
    if *i == s.len() {
        return Some(Pseudo::End);
    }
    if !is_s(s[*i]) {
        return None;
    }
    while *i < s.len() && is_s(s[*i]) {
        *i += 1;
    }
    if *i == s.len() {
        return Some(Pseudo::End);
    }
    let name_start = *i;
    let name_end;
    loop {
        let c = *s.get(*i)?;
        if !c.is_ascii() {
            return None;
        }
        if c == b'=' {
            name_end = *i;
            break;
        }
        if is_s(c) {
            name_end = *i;
            while *i < s.len() && is_s(s[*i]) {
                *i += 1;
            }
            if s.get(*i) != Some(&b'=') {
                return None;
            }
            break;
        }
        *i += 1;
    }
    if name_end == name_start {
        return None;
    }
    *i += 1;
    while *i < s.len() && is_s(s[*i]) {
        *i += 1;
    }
    let quote = *s.get(*i).filter(|q| matches!(q, b'"' | b'\''))?;
    *i += 1;
    let value_start = *i;
    loop {
        let c = *s.get(*i)?;
        if c == quote {
            break;
        }
        if !(c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_')) {
            return None;
        }
        *i += 1;
    }
    let value = &s[value_start..*i];
    *i += 1;
    Some(Pseudo::Attr { name: &s[name_start..name_end], value })
}

/// Checks the inside of `<?xml ... ?>` (everything after `xml`) against expat's
/// `XmlParseXmlDecl`; returns the declared encoding, if any.
pub(crate) fn parse_xml_declaration(content: &[u8]) -> Option<Option<&[u8]>> {
    let mut i = 0;
    let Pseudo::Attr { name, .. } = pseudo_attribute(content, &mut i)? else {
        return None;
    };
    if name != b"version" {
        return None;
    }
    let (mut name, mut value) = match pseudo_attribute(content, &mut i)? {
        Pseudo::End => return Some(None),
        Pseudo::Attr { name, value } => (name, value),
    };
    let mut encoding = None;
    if name == b"encoding" {
        if !value.first().is_some_and(u8::is_ascii_alphabetic) {
            return None;
        }
        encoding = Some(value);
        (name, value) = match pseudo_attribute(content, &mut i)? {
            Pseudo::End => return Some(encoding),
            Pseudo::Attr { name, value } => (name, value),
        };
    }
    if name != b"standalone" || !(value == b"yes" || value == b"no") {
        return None;
    }
    while i < content.len() && is_s(content[i]) {
        i += 1;
    }
    (i == content.len()).then_some(encoding)
}

/// The encoding a byte document declares, if it starts with a well-formed XML declaration.
pub(crate) fn declared_encoding(doc: &[u8]) -> Option<&[u8]> {
    let doc = doc.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(doc);
    let rest = doc.strip_prefix(b"<?xml")?;
    if !rest.first().is_some_and(|&b| is_s(b) || b == b'?') {
        return None;
    }
    let end = rest.windows(2).position(|w| w == b"?>")?;
    parse_xml_declaration(&rest[..end])?
}

const INVALID: &str = "not well-formed (invalid token)";
const UNCLOSED: &str = "unclosed token";

/// XML's `PubidChar`.
fn is_pubid_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b" \r\n-'()+,./:=?;!*#@$_%".contains(&b)
}

impl<'d, H: Handler> Reader<'d, '_, H> {
    fn fail<T>(&self, reason: &'static str) -> Result<T, H::Error> {
        Err(XmlError { offset: self.pos, reason }.into())
    }

    fn at(&self, prefix: &[u8]) -> bool {
        self.bytes[self.pos..].starts_with(prefix)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn peek_char(&self) -> Option<char> {
        self.doc[self.pos..].chars().next()
    }

    /// Skips XML white space and says whether there was any.
    fn skip_s(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(is_s) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// Refuses a raw character XML does not allow, then steps over it.
    fn step_checked(&mut self) -> Result<(), H::Error> {
        if is_bad_raw_byte(self.bytes, self.pos) {
            return self.fail(INVALID);
        }
        self.pos += 1;
        Ok(())
    }

    fn document(&mut self) -> Result<(), H::Error> {
        if self.doc.starts_with('\u{feff}') {
            self.pos = '\u{feff}'.len_utf8();
        }
        let declaration_pos = self.pos;
        let mut seen_doctype = false;
        loop {
            self.skip_s();
            if self.pos == self.bytes.len() {
                return self.fail("no element found");
            } else if self.at(b"<?") {
                self.processing_instruction(self.pos == declaration_pos)?;
            } else if self.at(b"<!--") {
                self.comment()?;
            } else if self.at(b"<!DOCTYPE") && !seen_doctype {
                self.doctype()?;
                seen_doctype = true;
            } else if self.at(b"<") && !self.at(b"<!") {
                break;
            } else {
                return self.fail("syntax error");
            }
        }
        self.root()?;
        loop {
            self.skip_s();
            if self.pos == self.bytes.len() {
                return Ok(());
            } else if self.at(b"<?") {
                self.processing_instruction(false)?;
            } else if self.at(b"<!--") {
                self.comment()?;
            } else {
                return self.fail("junk after document element");
            }
        }
    }

    fn root(&mut self) -> Result<(), H::Error> {
        self.start_tag()?;
        while !self.open.is_empty() {
            match self.peek() {
                None => return self.fail("no element found"),
                Some(b'<') => {
                    if self.at(b"</") {
                        self.end_tag()?;
                    } else if self.at(b"<!--") {
                        self.comment()?;
                    } else if self.at(b"<![CDATA[") {
                        self.cdata()?;
                    } else if self.at(b"<?") {
                        self.processing_instruction(false)?;
                    } else if self.at(b"<!") {
                        return self.fail(INVALID);
                    } else {
                        self.start_tag()?;
                    }
                }
                Some(b'&') => {
                    let c = self.reference()?;
                    self.handler.text(c.encode_utf8(&mut [0; 4]))?;
                }
                Some(_) => self.char_data()?,
            }
        }
        Ok(())
    }

    /// A name; with namespaces processed, a QName (at most one colon, with a name-start
    /// character on each side). Returns the colon's offset within the name.
    fn name(&mut self) -> Result<(&'d str, Option<usize>), H::Error> {
        let start = self.pos;
        match self.peek_char() {
            Some(c) if is_name_start(c) && !(self.namespaces && c == ':') => {
                self.pos += c.len_utf8();
            }
            Some(_) => return self.fail(INVALID),
            None => return self.fail(UNCLOSED),
        }
        let mut colon = None;
        loop {
            // Names are nearly always ASCII; step over those bytes without decoding.
            let run = self.bytes[self.pos..]
                .iter()
                .take_while(|&&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
                .count();
            self.pos += run;
            match self.peek() {
                Some(b':') if self.namespaces => {
                    if colon.is_some() {
                        return self.fail(INVALID);
                    }
                    colon = Some(self.pos - start);
                    self.pos += 1;
                    match self.peek_char() {
                        Some(c) if is_name_start(c) && c != ':' => self.pos += c.len_utf8(),
                        _ => return self.fail(INVALID),
                    }
                }
                Some(b':') => self.pos += 1,
                Some(b) if b.is_ascii() => break,
                Some(_) => match self.peek_char() {
                    Some(c) if is_name_char(c) => self.pos += c.len_utf8(),
                    _ => break,
                },
                None => break,
            }
        }
        Ok((&self.doc[start..self.pos], colon))
    }

    fn start_tag(&mut self) -> Result<(), H::Error> {
        self.pos += 1;
        let (qname, colon) = self.name()?;
        let mut attributes: Vec<Attribute<'d>> = Vec::new();
        let mut names: HashSet<&'d str> = HashSet::new();
        let empty = loop {
            let spaced = self.skip_s();
            match self.peek() {
                Some(b'>') => {
                    self.pos += 1;
                    break false;
                }
                Some(b'/') if self.at(b"/>") => {
                    self.pos += 2;
                    break true;
                }
                None => return self.fail(UNCLOSED),
                Some(_) if !spaced => return self.fail(INVALID),
                Some(_) => {
                    let (name, colon) = self.name()?;
                    self.skip_s();
                    if self.peek() != Some(b'=') {
                        return self.fail(INVALID);
                    }
                    self.pos += 1;
                    self.skip_s();
                    let value = self.attribute_value()?;
                    if !names.insert(name) {
                        return self.fail("duplicate attribute");
                    }
                    attributes.push(Attribute { name, colon, value });
                }
            }
        };
        if self.open.len() >= MAX_DEPTH {
            return self.fail("elements nested too deeply");
        }
        let scopes_mark = self.scopes.log.len();
        let (local, namespaced) = if self.namespaces {
            self.resolve_namespaces(qname, colon, &attributes)?
        } else {
            (qname, false)
        };
        let name = ElementName { qname, local, namespaced };
        self.handler.start(&name)?;
        if empty {
            self.scopes.truncate(scopes_mark);
            self.handler.end(&name)
        } else {
            self.open.push(Open { qname, local, namespaced, scopes_mark });
            Ok(())
        }
    }

    /// Applies an element's `xmlns` declarations and resolves its prefixes as expat does with
    /// namespace processing on: unbound prefixes, reserved prefixes and names, and two
    /// attributes that expand to the same name are all fatal.
    fn resolve_namespaces(
        &mut self,
        qname: &'d str,
        colon: Option<usize>,
        attributes: &[Attribute<'d>],
    ) -> Result<(&'d str, bool), H::Error> {
        for a in attributes {
            let prefix = if a.name == "xmlns" {
                None
            } else if a.colon == Some(5) && a.name.starts_with("xmlns:") {
                Some(&a.name[6..])
            } else {
                continue;
            };
            self.declare(prefix, &a.value)?;
        }
        let mut expanded: HashSet<(&str, &str)> = HashSet::new();
        for a in attributes {
            let Some(c) = a.colon else { continue };
            let prefix = &a.name[..c];
            if prefix == "xmlns" {
                continue;
            }
            let Some(uri) = self.scopes.lookup(prefix) else {
                return self.fail("unbound prefix");
            };
            if !expanded.insert((uri, &a.name[c + 1..])) {
                return self.fail("duplicate attribute");
            }
        }
        match colon {
            Some(c) => {
                if self.scopes.lookup(&qname[..c]).is_none() {
                    return self.fail("unbound prefix");
                }
                Ok((&qname[c + 1..], true))
            }
            None => Ok((qname, self.scopes.default_namespace().is_some())),
        }
    }

    fn declare(&mut self, prefix: Option<&'d str>, uri: &str) -> Result<(), H::Error> {
        if uri.is_empty() {
            if prefix.is_some() {
                return self.fail("must not undeclare prefix");
            }
            self.scopes.push(prefix, None);
            return Ok(());
        }
        if prefix == Some("xmlns") {
            return self.fail("reserved prefix (xmlns) must not be declared or undeclared");
        }
        if (prefix == Some("xml")) != (uri == XML_NAMESPACE) || uri == XMLNS_NAMESPACE {
            return self.fail("reserved prefix or namespace name misused");
        }
        // Expat refuses a URI holding its namespace separator, which ElementTree sets to `}`.
        if uri.contains('}') {
            return self.fail("syntax error");
        }
        self.scopes.push(prefix, Some(uri.to_owned()));
        Ok(())
    }

    /// A quoted attribute value with references resolved and white space normalized.
    fn attribute_value(&mut self) -> Result<String, H::Error> {
        let quote = match self.peek() {
            Some(q @ (b'"' | b'\'')) => q,
            _ => return self.fail(INVALID),
        };
        self.pos += 1;
        let mut value = String::new();
        loop {
            match self.peek() {
                None => return self.fail(UNCLOSED),
                Some(b) if b == quote => {
                    self.pos += 1;
                    return Ok(value);
                }
                Some(b'<') => return self.fail(INVALID),
                Some(b'&') => value.push(self.reference()?),
                Some(b'\r') => {
                    self.pos += 1;
                    if self.peek() == Some(b'\n') {
                        self.pos += 1;
                    }
                    value.push(' ');
                }
                Some(b'\t' | b'\n') => {
                    self.pos += 1;
                    value.push(' ');
                }
                Some(_) => {
                    if is_bad_raw_byte(self.bytes, self.pos) {
                        return self.fail(INVALID);
                    }
                    let Some(c) = self.peek_char() else { return self.fail(UNCLOSED) };
                    value.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    /// `&#N;`, `&#xH;` or one of the five predefined entities (there is no DTD to define more).
    fn reference(&mut self) -> Result<char, H::Error> {
        self.pos += 1;
        if self.peek() != Some(b'#') {
            let (name, _) = self.name()?;
            if self.peek() != Some(b';') {
                return self.fail(INVALID);
            }
            self.pos += 1;
            return match name {
                "amp" => Ok('&'),
                "lt" => Ok('<'),
                "gt" => Ok('>'),
                "quot" => Ok('"'),
                "apos" => Ok('\''),
                _ => self.fail("undefined entity"),
            };
        }
        self.pos += 1;
        let radix = if self.peek() == Some(b'x') {
            self.pos += 1;
            16
        } else {
            10
        };
        let mut code: u32 = 0;
        let mut digits = 0;
        while let Some(d) = self.peek().and_then(|b| char::from(b).to_digit(radix)) {
            code = code.saturating_mul(radix).saturating_add(d);
            digits += 1;
            self.pos += 1;
        }
        if digits == 0 || self.peek() != Some(b';') {
            return self.fail(INVALID);
        }
        self.pos += 1;
        match char::from_u32(code).filter(|c| is_xml_char(u32::from(*c))) {
            Some(c) => Ok(c),
            None => self.fail("reference to invalid character number"),
        }
    }

    fn char_data(&mut self) -> Result<(), H::Error> {
        let start = self.pos;
        let bytes = self.bytes;
        let mut i = start;
        while let Some(&b) = bytes.get(i) {
            match b {
                b'<' | b'&' => break,
                b'>' if bytes[start..i].ends_with(b"]]") => {
                    self.pos = i;
                    return self.fail(INVALID);
                }
                _ if b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r') => {
                    if b == 0xEF && is_bad_raw_byte(bytes, i) {
                        self.pos = i;
                        return self.fail(INVALID);
                    }
                    i += 1;
                }
                _ => {
                    self.pos = i;
                    return self.fail(INVALID);
                }
            }
        }
        self.pos = i;
        let text = normalize_newlines(&self.doc[start..i]);
        self.handler.text(&text)
    }

    fn cdata(&mut self) -> Result<(), H::Error> {
        self.pos += b"<![CDATA[".len();
        let start = self.pos;
        while !self.at(b"]]>") {
            if self.peek().is_none() {
                return self.fail(UNCLOSED);
            }
            self.step_checked()?;
        }
        let text = normalize_newlines(&self.doc[start..self.pos]);
        self.pos += 3;
        if text.is_empty() { Ok(()) } else { self.handler.text(&text) }
    }

    fn comment(&mut self) -> Result<(), H::Error> {
        self.pos += 4;
        while !self.at(b"--") {
            if self.peek().is_none() {
                return self.fail(UNCLOSED);
            }
            self.step_checked()?;
        }
        if !self.at(b"-->") {
            return self.fail(INVALID);
        }
        self.pos += 3;
        Ok(())
    }

    /// `<?target ...?>`; a target of exactly `xml` is the XML declaration, which is only allowed
    /// as the very first thing in the document.
    fn processing_instruction(&mut self, declaration_allowed: bool) -> Result<(), H::Error> {
        self.pos += 2;
        let (target, colon) = self.name()?;
        // With namespaces on, expat allows no colon at all in a target.
        if colon.is_some() {
            return self.fail(INVALID);
        }
        if target == "xml" {
            if !declaration_allowed {
                return self.fail("XML or text declaration not at start of entity");
            }
            let content_start = self.pos;
            let content_end = self.skip_to_pi_end()?;
            if parse_xml_declaration(&self.bytes[content_start..content_end]).is_none() {
                return self.fail("XML declaration not well-formed");
            }
            return Ok(());
        }
        if target.eq_ignore_ascii_case("xml") {
            return self.fail(INVALID);
        }
        if self.at(b"?>") {
            self.pos += 2;
            return Ok(());
        }
        if !self.skip_s() {
            return self.fail(INVALID);
        }
        self.skip_to_pi_end()?;
        Ok(())
    }

    /// Steps past the closing `?>`; returns where it started.
    fn skip_to_pi_end(&mut self) -> Result<usize, H::Error> {
        while !self.at(b"?>") {
            if self.peek().is_none() {
                return self.fail(UNCLOSED);
            }
            self.step_checked()?;
        }
        self.pos += 2;
        Ok(self.pos - 2)
    }

    fn doctype(&mut self) -> Result<(), H::Error> {
        self.pos += b"<!DOCTYPE".len();
        if !self.skip_s() {
            return self.fail(INVALID);
        }
        self.name()?;
        self.skip_s();
        let public = self.at(b"PUBLIC");
        if public || self.at(b"SYSTEM") {
            self.pos += 6;
            if !self.skip_s() {
                return self.fail(INVALID);
            }
            if public {
                self.literal(true)?;
                if !self.skip_s() {
                    return self.fail("syntax error");
                }
            }
            self.literal(false)?;
            self.skip_s();
        }
        match self.peek() {
            Some(b'>') => {
                self.pos += 1;
                Ok(())
            }
            Some(b'[') => self.internal_subset(),
            None => self.fail(UNCLOSED),
            Some(_) => self.fail("syntax error"),
        }
    }

    /// A quoted system or public literal, which expat insists is followed by a delimiter.
    fn literal(&mut self, public_id: bool) -> Result<(), H::Error> {
        let quote = match self.peek() {
            Some(q @ (b'"' | b'\'')) => q,
            _ => return self.fail("syntax error"),
        };
        self.pos += 1;
        loop {
            match self.peek() {
                None => return self.fail(UNCLOSED),
                Some(b) if b == quote => break,
                Some(b) if public_id && !is_pubid_byte(b) => {
                    return self.fail("illegal character(s) in public id");
                }
                Some(_) => self.step_checked()?,
            }
        }
        self.pos += 1;
        match self.peek() {
            Some(b) if is_s(b) || matches!(b, b'>' | b'[' | b'%') => Ok(()),
            None => self.fail(UNCLOSED),
            Some(_) => self.fail(INVALID),
        }
    }

    /// Only white space, comments and processing instructions: declarations would define
    /// entities, which we refuse to expand (see the module documentation).
    fn internal_subset(&mut self) -> Result<(), H::Error> {
        self.pos += 1;
        loop {
            self.skip_s();
            if self.at(b"]") {
                self.pos += 1;
                self.skip_s();
                if self.peek() != Some(b'>') {
                    return self.fail("syntax error");
                }
                self.pos += 1;
                return Ok(());
            } else if self.at(b"<!--") {
                self.comment()?;
            } else if self.at(b"<?") {
                self.processing_instruction(false)?;
            } else if self.peek().is_none() {
                return self.fail(UNCLOSED);
            } else {
                return self.fail("DTD declarations are not supported");
            }
        }
    }

    fn end_tag(&mut self) -> Result<(), H::Error> {
        self.pos += 2;
        let (qname, _) = self.name()?;
        self.skip_s();
        if self.peek() != Some(b'>') {
            return self.fail(INVALID);
        }
        self.pos += 1;
        let Some(open) = self.open.pop() else {
            return self.fail("mismatched tag");
        };
        if open.qname != qname {
            return self.fail("mismatched tag");
        }
        self.scopes.truncate(open.scopes_mark);
        self.handler.end(&ElementName {
            qname: open.qname,
            local: open.local,
            namespaced: open.namespaced,
        })
    }
}

/// Expat's name-start characters above ASCII (its XML 1.0 first-edition tables, read off expat
/// itself: no astral characters are name characters).
const NAME_START_NON_ASCII: &[(u32, u32)] = &[
    (0xC0, 0xD6),
    (0xD8, 0xF6),
    (0xF8, 0x131),
    (0x134, 0x13E),
    (0x141, 0x148),
    (0x14A, 0x17E),
    (0x180, 0x1C3),
    (0x1CD, 0x1F0),
    (0x1F4, 0x1F5),
    (0x1FA, 0x217),
    (0x250, 0x2A8),
    (0x2BB, 0x2C1),
    (0x386, 0x386),
    (0x388, 0x38A),
    (0x38C, 0x38C),
    (0x38E, 0x3A1),
    (0x3A3, 0x3CE),
    (0x3D0, 0x3D6),
    (0x3DA, 0x3DA),
    (0x3DC, 0x3DC),
    (0x3DE, 0x3DE),
    (0x3E0, 0x3E0),
    (0x3E2, 0x3F3),
    (0x401, 0x40C),
    (0x40E, 0x44F),
    (0x451, 0x45C),
    (0x45E, 0x481),
    (0x490, 0x4C4),
    (0x4C7, 0x4C8),
    (0x4CB, 0x4CC),
    (0x4D0, 0x4EB),
    (0x4EE, 0x4F5),
    (0x4F8, 0x4F9),
    (0x531, 0x556),
    (0x559, 0x559),
    (0x561, 0x586),
    (0x5D0, 0x5EA),
    (0x5F0, 0x5F2),
    (0x621, 0x63A),
    (0x641, 0x64A),
    (0x671, 0x6B7),
    (0x6BA, 0x6BE),
    (0x6C0, 0x6CE),
    (0x6D0, 0x6D3),
    (0x6D5, 0x6D5),
    (0x6E5, 0x6E6),
    (0x905, 0x939),
    (0x93D, 0x93D),
    (0x958, 0x961),
    (0x985, 0x98C),
    (0x98F, 0x990),
    (0x993, 0x9A8),
    (0x9AA, 0x9B0),
    (0x9B2, 0x9B2),
    (0x9B6, 0x9B9),
    (0x9DC, 0x9DD),
    (0x9DF, 0x9E1),
    (0x9F0, 0x9F1),
    (0xA05, 0xA0A),
    (0xA0F, 0xA10),
    (0xA13, 0xA28),
    (0xA2A, 0xA30),
    (0xA32, 0xA33),
    (0xA35, 0xA36),
    (0xA38, 0xA39),
    (0xA59, 0xA5C),
    (0xA5E, 0xA5E),
    (0xA72, 0xA74),
    (0xA85, 0xA8B),
    (0xA8D, 0xA8D),
    (0xA8F, 0xA91),
    (0xA93, 0xAA8),
    (0xAAA, 0xAB0),
    (0xAB2, 0xAB3),
    (0xAB5, 0xAB9),
    (0xABD, 0xABD),
    (0xAE0, 0xAE0),
    (0xB05, 0xB0C),
    (0xB0F, 0xB10),
    (0xB13, 0xB28),
    (0xB2A, 0xB30),
    (0xB32, 0xB33),
    (0xB36, 0xB39),
    (0xB3D, 0xB3D),
    (0xB5C, 0xB5D),
    (0xB5F, 0xB61),
    (0xB85, 0xB8A),
    (0xB8E, 0xB90),
    (0xB92, 0xB95),
    (0xB99, 0xB9A),
    (0xB9C, 0xB9C),
    (0xB9E, 0xB9F),
    (0xBA3, 0xBA4),
    (0xBA8, 0xBAA),
    (0xBAE, 0xBB5),
    (0xBB7, 0xBB9),
    (0xC05, 0xC0C),
    (0xC0E, 0xC10),
    (0xC12, 0xC28),
    (0xC2A, 0xC33),
    (0xC35, 0xC39),
    (0xC60, 0xC61),
    (0xC85, 0xC8C),
    (0xC8E, 0xC90),
    (0xC92, 0xCA8),
    (0xCAA, 0xCB3),
    (0xCB5, 0xCB9),
    (0xCDE, 0xCDE),
    (0xCE0, 0xCE1),
    (0xD05, 0xD0C),
    (0xD0E, 0xD10),
    (0xD12, 0xD28),
    (0xD2A, 0xD39),
    (0xD60, 0xD61),
    (0xE01, 0xE2E),
    (0xE30, 0xE30),
    (0xE32, 0xE33),
    (0xE40, 0xE45),
    (0xE81, 0xE82),
    (0xE84, 0xE84),
    (0xE87, 0xE88),
    (0xE8A, 0xE8A),
    (0xE8D, 0xE8D),
    (0xE94, 0xE97),
    (0xE99, 0xE9F),
    (0xEA1, 0xEA3),
    (0xEA5, 0xEA5),
    (0xEA7, 0xEA7),
    (0xEAA, 0xEAB),
    (0xEAD, 0xEAE),
    (0xEB0, 0xEB0),
    (0xEB2, 0xEB3),
    (0xEBD, 0xEBD),
    (0xEC0, 0xEC4),
    (0xF40, 0xF47),
    (0xF49, 0xF69),
    (0x10A0, 0x10C5),
    (0x10D0, 0x10F6),
    (0x1100, 0x1100),
    (0x1102, 0x1103),
    (0x1105, 0x1107),
    (0x1109, 0x1109),
    (0x110B, 0x110C),
    (0x110E, 0x1112),
    (0x113C, 0x113C),
    (0x113E, 0x113E),
    (0x1140, 0x1140),
    (0x114C, 0x114C),
    (0x114E, 0x114E),
    (0x1150, 0x1150),
    (0x1154, 0x1155),
    (0x1159, 0x1159),
    (0x115F, 0x1161),
    (0x1163, 0x1163),
    (0x1165, 0x1165),
    (0x1167, 0x1167),
    (0x1169, 0x1169),
    (0x116D, 0x116E),
    (0x1172, 0x1173),
    (0x1175, 0x1175),
    (0x119E, 0x119E),
    (0x11A8, 0x11A8),
    (0x11AB, 0x11AB),
    (0x11AE, 0x11AF),
    (0x11B7, 0x11B8),
    (0x11BA, 0x11BA),
    (0x11BC, 0x11C2),
    (0x11EB, 0x11EB),
    (0x11F0, 0x11F0),
    (0x11F9, 0x11F9),
    (0x1E00, 0x1E9B),
    (0x1EA0, 0x1EF9),
    (0x1F00, 0x1F15),
    (0x1F18, 0x1F1D),
    (0x1F20, 0x1F45),
    (0x1F48, 0x1F4D),
    (0x1F50, 0x1F57),
    (0x1F59, 0x1F59),
    (0x1F5B, 0x1F5B),
    (0x1F5D, 0x1F5D),
    (0x1F5F, 0x1F7D),
    (0x1F80, 0x1FB4),
    (0x1FB6, 0x1FBC),
    (0x1FBE, 0x1FBE),
    (0x1FC2, 0x1FC4),
    (0x1FC6, 0x1FCC),
    (0x1FD0, 0x1FD3),
    (0x1FD6, 0x1FDB),
    (0x1FE0, 0x1FEC),
    (0x1FF2, 0x1FF4),
    (0x1FF6, 0x1FFC),
    (0x2126, 0x2126),
    (0x212A, 0x212B),
    (0x212E, 0x212E),
    (0x2180, 0x2182),
    (0x3007, 0x3007),
    (0x3021, 0x3029),
    (0x3041, 0x3094),
    (0x30A1, 0x30FA),
    (0x3105, 0x312C),
    (0x4E00, 0x9FA5),
    (0xAC00, 0xD7A3),
];

/// Expat's name characters above ASCII.
const NAME_CHAR_NON_ASCII: &[(u32, u32)] = &[
    (0xB7, 0xB7),
    (0xC0, 0xD6),
    (0xD8, 0xF6),
    (0xF8, 0x131),
    (0x134, 0x13E),
    (0x141, 0x148),
    (0x14A, 0x17E),
    (0x180, 0x1C3),
    (0x1CD, 0x1F0),
    (0x1F4, 0x1F5),
    (0x1FA, 0x217),
    (0x250, 0x2A8),
    (0x2BB, 0x2C1),
    (0x2D0, 0x2D1),
    (0x300, 0x345),
    (0x360, 0x361),
    (0x386, 0x38A),
    (0x38C, 0x38C),
    (0x38E, 0x3A1),
    (0x3A3, 0x3CE),
    (0x3D0, 0x3D6),
    (0x3DA, 0x3DA),
    (0x3DC, 0x3DC),
    (0x3DE, 0x3DE),
    (0x3E0, 0x3E0),
    (0x3E2, 0x3F3),
    (0x401, 0x40C),
    (0x40E, 0x44F),
    (0x451, 0x45C),
    (0x45E, 0x481),
    (0x483, 0x486),
    (0x490, 0x4C4),
    (0x4C7, 0x4C8),
    (0x4CB, 0x4CC),
    (0x4D0, 0x4EB),
    (0x4EE, 0x4F5),
    (0x4F8, 0x4F9),
    (0x531, 0x556),
    (0x559, 0x559),
    (0x561, 0x586),
    (0x591, 0x5A1),
    (0x5A3, 0x5B9),
    (0x5BB, 0x5BD),
    (0x5BF, 0x5BF),
    (0x5C1, 0x5C2),
    (0x5C4, 0x5C4),
    (0x5D0, 0x5EA),
    (0x5F0, 0x5F2),
    (0x621, 0x63A),
    (0x640, 0x652),
    (0x660, 0x669),
    (0x670, 0x6B7),
    (0x6BA, 0x6BE),
    (0x6C0, 0x6CE),
    (0x6D0, 0x6D3),
    (0x6D5, 0x6E8),
    (0x6EA, 0x6ED),
    (0x6F0, 0x6F9),
    (0x901, 0x903),
    (0x905, 0x939),
    (0x93C, 0x94D),
    (0x951, 0x954),
    (0x958, 0x963),
    (0x966, 0x96F),
    (0x981, 0x983),
    (0x985, 0x98C),
    (0x98F, 0x990),
    (0x993, 0x9A8),
    (0x9AA, 0x9B0),
    (0x9B2, 0x9B2),
    (0x9B6, 0x9B9),
    (0x9BC, 0x9BC),
    (0x9BE, 0x9C4),
    (0x9C7, 0x9C8),
    (0x9CB, 0x9CD),
    (0x9D7, 0x9D7),
    (0x9DC, 0x9DD),
    (0x9DF, 0x9E3),
    (0x9E6, 0x9F1),
    (0xA02, 0xA02),
    (0xA05, 0xA0A),
    (0xA0F, 0xA10),
    (0xA13, 0xA28),
    (0xA2A, 0xA30),
    (0xA32, 0xA33),
    (0xA35, 0xA36),
    (0xA38, 0xA39),
    (0xA3C, 0xA3C),
    (0xA3E, 0xA42),
    (0xA47, 0xA48),
    (0xA4B, 0xA4D),
    (0xA59, 0xA5C),
    (0xA5E, 0xA5E),
    (0xA66, 0xA74),
    (0xA81, 0xA83),
    (0xA85, 0xA8B),
    (0xA8D, 0xA8D),
    (0xA8F, 0xA91),
    (0xA93, 0xAA8),
    (0xAAA, 0xAB0),
    (0xAB2, 0xAB3),
    (0xAB5, 0xAB9),
    (0xABC, 0xAC5),
    (0xAC7, 0xAC9),
    (0xACB, 0xACD),
    (0xAE0, 0xAE0),
    (0xAE6, 0xAEF),
    (0xB01, 0xB03),
    (0xB05, 0xB0C),
    (0xB0F, 0xB10),
    (0xB13, 0xB28),
    (0xB2A, 0xB30),
    (0xB32, 0xB33),
    (0xB36, 0xB39),
    (0xB3C, 0xB43),
    (0xB47, 0xB48),
    (0xB4B, 0xB4D),
    (0xB56, 0xB57),
    (0xB5C, 0xB5D),
    (0xB5F, 0xB61),
    (0xB66, 0xB6F),
    (0xB82, 0xB83),
    (0xB85, 0xB8A),
    (0xB8E, 0xB90),
    (0xB92, 0xB95),
    (0xB99, 0xB9A),
    (0xB9C, 0xB9C),
    (0xB9E, 0xB9F),
    (0xBA3, 0xBA4),
    (0xBA8, 0xBAA),
    (0xBAE, 0xBB5),
    (0xBB7, 0xBB9),
    (0xBBE, 0xBC2),
    (0xBC6, 0xBC8),
    (0xBCA, 0xBCD),
    (0xBD7, 0xBD7),
    (0xBE7, 0xBEF),
    (0xC01, 0xC03),
    (0xC05, 0xC0C),
    (0xC0E, 0xC10),
    (0xC12, 0xC28),
    (0xC2A, 0xC33),
    (0xC35, 0xC39),
    (0xC3E, 0xC44),
    (0xC46, 0xC48),
    (0xC4A, 0xC4D),
    (0xC55, 0xC56),
    (0xC60, 0xC61),
    (0xC66, 0xC6F),
    (0xC82, 0xC83),
    (0xC85, 0xC8C),
    (0xC8E, 0xC90),
    (0xC92, 0xCA8),
    (0xCAA, 0xCB3),
    (0xCB5, 0xCB9),
    (0xCBE, 0xCC4),
    (0xCC6, 0xCC8),
    (0xCCA, 0xCCD),
    (0xCD5, 0xCD6),
    (0xCDE, 0xCDE),
    (0xCE0, 0xCE1),
    (0xCE6, 0xCEF),
    (0xD02, 0xD03),
    (0xD05, 0xD0C),
    (0xD0E, 0xD10),
    (0xD12, 0xD28),
    (0xD2A, 0xD39),
    (0xD3E, 0xD43),
    (0xD46, 0xD48),
    (0xD4A, 0xD4D),
    (0xD57, 0xD57),
    (0xD60, 0xD61),
    (0xD66, 0xD6F),
    (0xE01, 0xE2E),
    (0xE30, 0xE3A),
    (0xE40, 0xE4E),
    (0xE50, 0xE59),
    (0xE81, 0xE82),
    (0xE84, 0xE84),
    (0xE87, 0xE88),
    (0xE8A, 0xE8A),
    (0xE8D, 0xE8D),
    (0xE94, 0xE97),
    (0xE99, 0xE9F),
    (0xEA1, 0xEA3),
    (0xEA5, 0xEA5),
    (0xEA7, 0xEA7),
    (0xEAA, 0xEAB),
    (0xEAD, 0xEAE),
    (0xEB0, 0xEB9),
    (0xEBB, 0xEBD),
    (0xEC0, 0xEC4),
    (0xEC6, 0xEC6),
    (0xEC8, 0xECD),
    (0xED0, 0xED9),
    (0xF18, 0xF19),
    (0xF20, 0xF29),
    (0xF35, 0xF35),
    (0xF37, 0xF37),
    (0xF39, 0xF39),
    (0xF3E, 0xF47),
    (0xF49, 0xF69),
    (0xF71, 0xF84),
    (0xF86, 0xF8B),
    (0xF90, 0xF95),
    (0xF97, 0xF97),
    (0xF99, 0xFAD),
    (0xFB1, 0xFB7),
    (0xFB9, 0xFB9),
    (0x10A0, 0x10C5),
    (0x10D0, 0x10F6),
    (0x1100, 0x1100),
    (0x1102, 0x1103),
    (0x1105, 0x1107),
    (0x1109, 0x1109),
    (0x110B, 0x110C),
    (0x110E, 0x1112),
    (0x113C, 0x113C),
    (0x113E, 0x113E),
    (0x1140, 0x1140),
    (0x114C, 0x114C),
    (0x114E, 0x114E),
    (0x1150, 0x1150),
    (0x1154, 0x1155),
    (0x1159, 0x1159),
    (0x115F, 0x1161),
    (0x1163, 0x1163),
    (0x1165, 0x1165),
    (0x1167, 0x1167),
    (0x1169, 0x1169),
    (0x116D, 0x116E),
    (0x1172, 0x1173),
    (0x1175, 0x1175),
    (0x119E, 0x119E),
    (0x11A8, 0x11A8),
    (0x11AB, 0x11AB),
    (0x11AE, 0x11AF),
    (0x11B7, 0x11B8),
    (0x11BA, 0x11BA),
    (0x11BC, 0x11C2),
    (0x11EB, 0x11EB),
    (0x11F0, 0x11F0),
    (0x11F9, 0x11F9),
    (0x1E00, 0x1E9B),
    (0x1EA0, 0x1EF9),
    (0x1F00, 0x1F15),
    (0x1F18, 0x1F1D),
    (0x1F20, 0x1F45),
    (0x1F48, 0x1F4D),
    (0x1F50, 0x1F57),
    (0x1F59, 0x1F59),
    (0x1F5B, 0x1F5B),
    (0x1F5D, 0x1F5D),
    (0x1F5F, 0x1F7D),
    (0x1F80, 0x1FB4),
    (0x1FB6, 0x1FBC),
    (0x1FBE, 0x1FBE),
    (0x1FC2, 0x1FC4),
    (0x1FC6, 0x1FCC),
    (0x1FD0, 0x1FD3),
    (0x1FD6, 0x1FDB),
    (0x1FE0, 0x1FEC),
    (0x1FF2, 0x1FF4),
    (0x1FF6, 0x1FFC),
    (0x20D0, 0x20DC),
    (0x20E1, 0x20E1),
    (0x2126, 0x2126),
    (0x212A, 0x212B),
    (0x212E, 0x212E),
    (0x2180, 0x2182),
    (0x3005, 0x3005),
    (0x3007, 0x3007),
    (0x3021, 0x302F),
    (0x3031, 0x3035),
    (0x3041, 0x3094),
    (0x3099, 0x309A),
    (0x309D, 0x309E),
    (0x30A1, 0x30FA),
    (0x30FC, 0x30FE),
    (0x3105, 0x312C),
    (0x4E00, 0x9FA5),
    (0xAC00, 0xD7A3),
];
