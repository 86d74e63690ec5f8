//! The XML-RPC wire codec: the values supervisor exchanges, a request parser that accepts and
//! refuses exactly what supervisor's own lenient unmarshaller does, a reply writer byte-identical
//! to Python's `xmlrpc.client.dumps`, and the client-side pair (`method_call`,
//! `parse_method_response`) for our supervisorctl. Pure: no I/O, no HTTP.
//!
//! Supervisor parses requests with ElementTree's `iterparse` and a table of per-tag
//! unmarshallers that overwrite each finished element's text with its value
//! (`supervisor_xmlrpc_handler.loads`). That design, not the XML-RPC spec, decides what a body
//! means: `<boolean>true</boolean>` is false, `<int> 5 </int>` is 5, unknown tags yield their
//! text, a struct member is "any element with exactly two children". So the request parser here
//! replays that algorithm on a small element tree with Python-typed intermediate values
//! (`PyVal`) and only converts to [`Value`] at the end.

mod pyconv;
#[cfg(test)]
mod tests;
mod xml;

use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt::Write as _;

use base64::Engine;

use self::pyconv::PyInt;
use self::xml::{ElementName, Handler, Namespaces, XmlError};

/// An XML-RPC value as supervisor sends and receives them. Structs keep member order (Python
/// dicts are insertion-ordered and supervisor's replies are byte-compared).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Bool(bool),
    Str(String),
    Double(f64),
    /// The text of a `dateTime.iso8601` element (`YYYYMMDDTHH:MM:SS` when supervisor parsed it).
    DateTime(String),
    Base64(Vec<u8>),
    Array(Vec<Value>),
    Struct(Vec<(String, Value)>),
    Nil,
    /// An already-marshalled `<value>` element, written out as it is: hot replies
    /// (`getAllProcessInfo`) are built straight into XML with a [`StructWriter`] rather than as
    /// a tree of small allocations. Parsing never produces it.
    Marshalled(String),
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// A struct member by name (the first, should a hand-made body repeat one).
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Struct(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Value::Int(i64::from(i))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Double(f)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Self {
        Value::Array(items)
    }
}

/// A parsed request.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodCall {
    pub method: String,
    pub params: Vec<Value>,
}

/// Why a request body is refused; the server answers HTTP 400 (supervisor logs `XML-RPC request
/// data %r is invalid: unmarshallable` / `: no method name`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RequestError {
    /// Not well-formed XML, or an element supervisor's unmarshallers raise on (`<int>abc</int>`,
    /// a `<param>` without a child, ...). The text is for our own logs.
    #[error("unmarshallable: {0}")]
    Unmarshallable(String),
    /// No `<methodName>`, or an empty one.
    #[error("no method name")]
    NoMethodName,
}

/// Why a reply cannot be written: None (supervisor never enables `allow_none`).
///
/// Python's marshaller also refuses ints outside the signed 32-bit range (OverflowError, so
/// supervisord answers HTTP 500, GOT-25: a 3 GB `stdout_logfile_maxbytes` breaks `avail`). We
/// write such an int as it is instead: `xmlrpc.client` reads `<int>` with Python's unbounded
/// `int()`, so Python clients get the true value where supervisord fails (README).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EncodeError {
    #[error("cannot marshal None unless allow_none is enabled")]
    Nil,
}

/// A parsed reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    Value(Value),
    Fault { code: i64, text: String },
}

/// Why a reply body could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResponseError {
    /// The body is not in an encoding we read (UTF-8, ISO-8859-1 and US-ASCII are).
    #[error("unsupported or invalid response encoding: {0}")]
    Encoding(String),
    /// Where `xmlrpc.client.loads` raises: bad XML, a bad scalar, an unbalanced array or
    /// struct, no `<params>`/`<fault>`, a malformed fault.
    #[error("malformed XML-RPC response: {0}")]
    Malformed(String),
    /// Python would accept it but a [`Value`] cannot hold it: ints wider than 64 bits,
    /// `bigdecimal`, a reply with other than one value, a fault whose code is not an int.
    #[error("unsupported XML-RPC response: {0}")]
    Unsupported(String),
}

/// The one failure type the parsers' tree builders use internally, tagged so each public
/// error keeps Python's distinction between "raises" and "cannot represent".
#[derive(Debug)]
enum Refusal {
    Malformed(String),
    Unsupported(String),
}

impl From<XmlError> for Refusal {
    fn from(e: XmlError) -> Self {
        Refusal::Malformed(e.to_string())
    }
}

fn malformed<T>(why: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal::Malformed(why.into()))
}

/// A Python object as the unmarshallers produce it, before we know whether a [`Value`] can hold
/// it: ints are unbounded, dict keys can be any hashable value, and `datetime` is a real type.
#[derive(Debug, Clone)]
enum PyVal {
    None,
    Str(String),
    Int(i64),
    /// An int outside `i64`, as canonical decimal text.
    BigInt(String),
    Bool(bool),
    Float(f64),
    /// `datetime.datetime` (supervisor's request parser).
    DateTime(pyconv::DateTime),
    /// `xmlrpc.client.DateTime`, which keeps the stripped text and is unhashable.
    DateTimeText(String),
    /// `xmlrpc.client.Binary` (unhashable).
    Binary(Vec<u8>),
    List(Vec<PyVal>),
    Dict(Vec<(PyVal, PyVal)>),
}

/// A dict key's identity under Python's `==` (so `1`, `1.0` and `True` are one key), hashable
/// so that building a struct from a hostile body with many members stays linear.
#[derive(Debug, PartialEq, Eq, Hash)]
enum KeyId<'a> {
    None,
    Str(&'a str),
    /// Any integral number, as canonical decimal text.
    Integer(String),
    /// A float that is not integral, by its bits (zeros are integral, so the two zeros agree).
    Float(u64),
    /// NaN equals nothing, not even another NaN.
    Unequal(usize),
    DateTime(pyconv::DateTime),
}

impl PyVal {
    fn from_text(text: Option<String>) -> PyVal {
        text.map_or(PyVal::None, PyVal::Str)
    }

    fn from_int(i: PyInt) -> PyVal {
        match i {
            PyInt::Small(i) => PyVal::Int(i),
            PyInt::Big(s) => PyVal::BigInt(s),
        }
    }

    /// Python's `bool(x)`.
    fn truthy(&self) -> bool {
        match self {
            PyVal::None => false,
            PyVal::Str(s) => !s.is_empty(),
            PyVal::Int(i) => *i != 0,
            PyVal::Bool(b) => *b,
            PyVal::Float(f) => *f != 0.0,
            PyVal::List(items) => !items.is_empty(),
            PyVal::Dict(members) => !members.is_empty(),
            PyVal::BigInt(_) | PyVal::DateTime(_) | PyVal::DateTimeText(_) | PyVal::Binary(_) => {
                true
            }
        }
    }

    /// This key's identity; `position` tells NaNs apart. `None` for unhashable values.
    fn key_id(&self, position: usize) -> Option<KeyId<'_>> {
        Some(match self {
            PyVal::None => KeyId::None,
            PyVal::Str(s) => KeyId::Str(s),
            PyVal::Int(i) => KeyId::Integer(i.to_string()),
            PyVal::Bool(b) => KeyId::Integer(u8::from(*b).to_string()),
            PyVal::BigInt(s) => KeyId::Integer(s.clone()),
            PyVal::Float(f) if f.is_nan() => KeyId::Unequal(position),
            PyVal::Float(f) if *f == 0.0 => KeyId::Integer("0".to_owned()),
            // `{:.0}` writes an integral f64 exactly, digit for digit.
            PyVal::Float(f) if f.is_finite() && f.fract() == 0.0 => {
                KeyId::Integer(format!("{f:.0}"))
            }
            PyVal::Float(f) => KeyId::Float(f.to_bits()),
            PyVal::DateTime(dt) => KeyId::DateTime(*dt),
            PyVal::List(_) | PyVal::Dict(_) | PyVal::Binary(_) | PyVal::DateTimeText(_) => {
                return None;
            }
        })
    }

    /// `str(key)`: how a non-string dict key (only reachable through odd hand-written bodies)
    /// becomes a member name.
    fn key_name(self) -> String {
        match self {
            PyVal::Str(s) | PyVal::BigInt(s) => s,
            PyVal::Int(i) => i.to_string(),
            PyVal::Bool(b) => if b { "True" } else { "False" }.to_owned(),
            PyVal::Float(f) => pyconv::float_repr(f),
            PyVal::DateTime(dt) => dt.python_str(),
            PyVal::None => "None".to_owned(),
            // Unhashable values never become keys (see `build_dict`).
            PyVal::DateTimeText(s) => s,
            PyVal::Binary(_) | PyVal::List(_) | PyVal::Dict(_) => String::new(),
        }
    }

    fn into_value(self) -> Result<Value, Refusal> {
        Ok(match self {
            PyVal::None => Value::Nil,
            PyVal::Str(s) => Value::Str(s),
            PyVal::Int(i) => Value::Int(i),
            PyVal::BigInt(s) => {
                return Err(Refusal::Unsupported(format!("integer {s} does not fit in 64 bits")));
            }
            PyVal::Bool(b) => Value::Bool(b),
            PyVal::Float(f) => Value::Double(f),
            PyVal::DateTime(dt) => Value::DateTime(dt.iso8601()),
            PyVal::DateTimeText(s) => Value::DateTime(s),
            PyVal::Binary(b) => Value::Base64(b),
            PyVal::List(items) => {
                Value::Array(items.into_iter().map(PyVal::into_value).collect::<Result<_, _>>()?)
            }
            PyVal::Dict(members) => Value::Struct(
                members
                    .into_iter()
                    .map(|(k, v)| Ok((k.key_name(), v.into_value()?)))
                    .collect::<Result<_, Refusal>>()?,
            ),
        })
    }
}

/// `dict(pairs)`: a repeated key keeps its first position and first key object but takes the
/// last value; an unhashable key is a TypeError.
fn build_dict(pairs: Vec<(PyVal, PyVal)>) -> Result<PyVal, Refusal> {
    // Small structs (every struct supervisor exchanges) are cheaper to scan than to hash; large
    // ones from a hostile body must stay linear.
    const SCAN_LIMIT: usize = 32;
    if pairs.len() > SCAN_LIMIT {
        return build_large_dict(pairs);
    }
    let mut members: Vec<(PyVal, PyVal)> = Vec::with_capacity(pairs.len());
    let mut positions: Vec<usize> = Vec::with_capacity(pairs.len());
    for (position, (key, value)) in pairs.into_iter().enumerate() {
        let Some(id) = key.key_id(position) else {
            return malformed("unhashable struct member name");
        };
        let existing = members.iter().zip(&positions).position(|((k, _), &p)| match (k, &key) {
            (PyVal::Str(a), PyVal::Str(b)) => a == b,
            (PyVal::Str(_), _) | (_, PyVal::Str(_)) => false,
            _ => k.key_id(p).as_ref() == Some(&id),
        });
        match existing {
            Some(slot) => members[slot].1 = value,
            None => {
                members.push((key, value));
                positions.push(position);
            }
        }
    }
    Ok(PyVal::Dict(members))
}

fn build_large_dict(pairs: Vec<(PyVal, PyVal)>) -> Result<PyVal, Refusal> {
    let mut first_of: Vec<Option<usize>> = Vec::with_capacity(pairs.len());
    {
        let mut seen: HashMap<KeyId<'_>, usize> = HashMap::with_capacity(pairs.len());
        for (position, (key, _)) in pairs.iter().enumerate() {
            let Some(id) = key.key_id(position) else {
                return malformed("unhashable struct member name");
            };
            match seen.entry(id) {
                Entry::Occupied(first) => first_of.push(Some(*first.get())),
                Entry::Vacant(slot) => {
                    slot.insert(position);
                    first_of.push(None);
                }
            }
        }
    }
    let mut members: Vec<(PyVal, PyVal)> = Vec::with_capacity(pairs.len());
    // Where each pair's key landed in `members`, for the duplicates that follow it.
    let mut slot_of: Vec<usize> = Vec::with_capacity(pairs.len());
    for ((key, value), first) in pairs.into_iter().zip(first_of) {
        match first {
            Some(first) => {
                let slot = slot_of[first];
                members[slot].1 = value;
                slot_of.push(slot);
            }
            None => {
                slot_of.push(members.len());
                members.push((key, value));
            }
        }
    }
    Ok(PyVal::Dict(members))
}

// ---------------------------------------------------------------------------------------------
// Requests, as supervisor reads them.

/// The tags supervisor's `loads` treats specially; everything else (including any namespaced
/// element) is left alone with its raw text and children.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RequestTag {
    Int,
    Boolean,
    String,
    Double,
    DateTime,
    Array,
    Data,
    Struct,
    Base64,
    Param,
    Value,
    MethodName,
    Params,
    Other,
}

impl RequestTag {
    fn of(name: &ElementName<'_>) -> RequestTag {
        if name.namespaced {
            return RequestTag::Other;
        }
        match name.local {
            "int" | "i4" => RequestTag::Int,
            "boolean" => RequestTag::Boolean,
            "string" => RequestTag::String,
            "double" => RequestTag::Double,
            "dateTime.iso8601" => RequestTag::DateTime,
            "array" => RequestTag::Array,
            "data" => RequestTag::Data,
            "struct" => RequestTag::Struct,
            "base64" => RequestTag::Base64,
            "param" => RequestTag::Param,
            "value" => RequestTag::Value,
            "methodName" => RequestTag::MethodName,
            "params" => RequestTag::Params,
            _ => RequestTag::Other,
        }
    }
}

/// A finished ElementTree element after `loads` has seen it: `text` is either the raw text or,
/// for handled tags, the unmarshalled value (and then `children` has been cleared).
struct Element {
    text: PyVal,
    children: Vec<Element>,
}

/// An element still being read: `text` is the character data before its first child (tails
/// are never read by `loads`, so they are dropped).
struct OpenElement {
    tag: RequestTag,
    text: Option<String>,
    children: Vec<Element>,
}

#[derive(Default)]
struct CallBuilder {
    open: Vec<OpenElement>,
    /// `method = elem.text` of the last `<methodName>` to close.
    method: Option<String>,
    /// The texts of the last `<params>`' children, in order.
    params: Option<Vec<PyVal>>,
}

impl Handler for CallBuilder {
    type Error = Refusal;

    fn start(&mut self, name: &ElementName<'_>) -> Result<(), Refusal> {
        self.open.push(OpenElement { tag: RequestTag::of(name), text: None, children: Vec::new() });
        Ok(())
    }

    fn text(&mut self, text: &str) -> Result<(), Refusal> {
        if let Some(open) = self.open.last_mut()
            && open.children.is_empty()
            && !text.is_empty()
        {
            open.text.get_or_insert_with(String::new).push_str(text);
        }
        Ok(())
    }

    fn end(&mut self, _name: &ElementName<'_>) -> Result<(), Refusal> {
        let Some(open) = self.open.pop() else {
            return Ok(());
        };
        let element = self.finish(open)?;
        if let Some(parent) = self.open.last_mut() {
            parent.children.push(element);
        }
        Ok(())
    }
}

/// `x[0].text` of an element about to be cleared (so its first child can be moved out).
fn first_child_text(children: Vec<Element>, tag: &str) -> Result<PyVal, Refusal> {
    match children.into_iter().next() {
        Some(child) => Ok(child.text),
        None => malformed(format!("<{tag}> has no child element")),
    }
}

fn required_text(text: Option<String>, tag: &str) -> Result<String, Refusal> {
    match text {
        Some(text) => Ok(text),
        None => malformed(format!("<{tag}> has no text")),
    }
}

impl CallBuilder {
    /// Supervisor's per-tag unmarshaller (or its `value`/`methodName`/`params` special cases)
    /// for an element that just closed.
    fn finish(&mut self, open: OpenElement) -> Result<Element, Refusal> {
        let OpenElement { tag, text, children } = open;
        let value = match tag {
            RequestTag::Int => {
                let text = required_text(text, "int")?;
                match pyconv::int(&text) {
                    Some(i) => PyVal::from_int(i),
                    None => return malformed(format!("invalid int {text:?}")),
                }
            }
            RequestTag::Boolean => PyVal::Bool(text.as_deref() == Some("1")),
            RequestTag::String => PyVal::Str(text.unwrap_or_default()),
            RequestTag::Double => {
                let text = required_text(text, "double")?;
                match pyconv::float(&text) {
                    Some(f) => PyVal::Float(f),
                    None => return malformed(format!("invalid double {text:?}")),
                }
            }
            RequestTag::DateTime => {
                let text = required_text(text, "dateTime.iso8601")?;
                match pyconv::parse_iso8601(&text) {
                    Some(dt) => PyVal::DateTime(dt),
                    None => return malformed(format!("invalid dateTime.iso8601 {text:?}")),
                }
            }
            RequestTag::Array => first_child_text(children, "array")?,
            RequestTag::Param => first_child_text(children, "param")?,
            RequestTag::Data => PyVal::List(children.into_iter().map(|c| c.text).collect()),
            RequestTag::Struct => {
                let mut pairs = Vec::with_capacity(children.len());
                for member in children {
                    let Ok([name, value]) = <[Element; 2]>::try_from(member.children) else {
                        return malformed("struct member without exactly a name and a value");
                    };
                    let key =
                        if name.text.truthy() { name.text } else { PyVal::Str(String::new()) };
                    pairs.push((key, value.text));
                }
                build_dict(pairs)?
            }
            RequestTag::Base64 => {
                let text = text.unwrap_or_default();
                let Some(bytes) = crate::python::a2b_base64(text.as_bytes()) else {
                    return malformed("invalid base64");
                };
                match String::from_utf8(bytes) {
                    Ok(s) => PyVal::Str(s),
                    Err(_) => return malformed("base64 data is not UTF-8 text"),
                }
            }
            RequestTag::Value => match children.into_iter().next() {
                Some(child) => child.text,
                None => PyVal::Str(text.unwrap_or_default()),
            },
            RequestTag::MethodName => {
                self.method.clone_from(&text);
                return Ok(Element { text: PyVal::from_text(text), children });
            }
            RequestTag::Params => {
                self.params = Some(children.iter().map(|c| c.text.clone()).collect());
                return Ok(Element { text: PyVal::from_text(text), children });
            }
            RequestTag::Other => return Ok(Element { text: PyVal::from_text(text), children }),
        };
        Ok(Element { text: value, children: Vec::new() })
    }
}

/// Parses a request body exactly as supervisor's `supervisor_xmlrpc_handler.loads` does (see
/// the module documentation), then applies `continue_request`'s method-name check.
///
/// Differences from Python, all of them refusals of bodies no client sends: a body that is not
/// UTF-8 (Python drops the connection without a reply), ints wider than 64 bits (Python passes
/// them on), a DOCTYPE with declarations, and elements nested over 1000 deep.
pub fn parse_method_call(body: &[u8]) -> Result<MethodCall, RequestError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| RequestError::Unmarshallable("request body is not UTF-8".to_owned()))?;
    let mut builder = CallBuilder::default();
    xml::parse(text, Namespaces::Processed, &mut builder).map_err(unmarshallable)?;
    let method = builder.method.filter(|m| !m.is_empty()).ok_or(RequestError::NoMethodName)?;
    let params = builder
        .params
        .unwrap_or_default()
        .into_iter()
        .map(PyVal::into_value)
        .collect::<Result<_, _>>()
        .map_err(unmarshallable)?;
    Ok(MethodCall { method, params })
}

fn unmarshallable(refusal: Refusal) -> RequestError {
    match refusal {
        Refusal::Malformed(why) | Refusal::Unsupported(why) => RequestError::Unmarshallable(why),
    }
}

// ---------------------------------------------------------------------------------------------
// Replies, as `xmlrpc.client` reads them.

/// What `xmlrpc.client.Unmarshaller` recorded as the body's kind (the last of these to close).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReplyKind {
    Params,
    Fault,
    MethodName,
}

/// The tags `Unmarshaller.dispatch` knows; inside a `<value>`, the first child must be one.
const REPLY_TAGS: &[&str] = &[
    "nil",
    "boolean",
    "i1",
    "i2",
    "i4",
    "i8",
    "int",
    "biginteger",
    "double",
    "float",
    "bigdecimal",
    "string",
    "name",
    "array",
    "struct",
    "base64",
    "dateTime.iso8601",
    "value",
    "params",
    "fault",
    "methodName",
];

/// `Unmarshaller` looks tags up by the part after the last colon.
fn unprefixed(tag: &str) -> &str {
    match tag.bytes().rposition(|b| b == b':') {
        Some(colon) => &tag[colon + 1..],
        None => tag,
    }
}

#[derive(Default)]
struct ReplyBuilder {
    kind: Option<ReplyKind>,
    stack: Vec<PyVal>,
    marks: Vec<usize>,
    /// Character data since the last start tag.
    data: String,
    /// The last start tag was `<value>`, so a `</value>` now means an untyped string.
    in_value: bool,
}

impl Handler for ReplyBuilder {
    type Error = Refusal;

    fn start(&mut self, name: &ElementName<'_>) -> Result<(), Refusal> {
        let tag = unprefixed(name.qname);
        if tag == "array" || tag == "struct" {
            self.marks.push(self.stack.len());
        }
        self.data.clear();
        if self.in_value && !REPLY_TAGS.contains(&tag) {
            return malformed(format!("unknown tag {tag:?}"));
        }
        self.in_value = tag == "value";
        Ok(())
    }

    fn text(&mut self, text: &str) -> Result<(), Refusal> {
        self.data.push_str(text);
        Ok(())
    }

    fn end(&mut self, name: &ElementName<'_>) -> Result<(), Refusal> {
        let data = &self.data;
        let value = match unprefixed(name.qname) {
            "nil" => PyVal::None,
            "boolean" => match data.as_str() {
                "0" => PyVal::Bool(false),
                "1" => PyVal::Bool(true),
                _ => return malformed("bad boolean value"),
            },
            "i1" | "i2" | "i4" | "i8" | "int" | "biginteger" => match pyconv::int(data) {
                Some(i) => PyVal::from_int(i),
                None => return malformed(format!("invalid int {data:?}")),
            },
            "double" | "float" => match pyconv::float(data) {
                Some(f) => PyVal::Float(f),
                None => return malformed(format!("invalid double {data:?}")),
            },
            "bigdecimal" => {
                return Err(Refusal::Unsupported("bigdecimal values".to_owned()));
            }
            "string" | "name" => PyVal::Str(data.clone()),
            "array" => PyVal::List(self.take_marked()?),
            "struct" => {
                let items = self.take_marked()?;
                if items.len() % 2 != 0 {
                    return malformed("struct with a name but no value");
                }
                let mut pairs = Vec::with_capacity(items.len() / 2);
                let mut items = items.into_iter();
                while let (Some(k), Some(v)) = (items.next(), items.next()) {
                    pairs.push((k, v));
                }
                build_dict(pairs)?
            }
            "base64" => {
                let decoded = data.is_ascii().then(|| crate::python::a2b_base64(data.as_bytes()));
                match decoded.flatten() {
                    Some(bytes) => PyVal::Binary(bytes),
                    None => return malformed("invalid base64"),
                }
            }
            "dateTime.iso8601" => {
                // `DateTime.decode` stores the stripped text and leaves `_value` alone.
                self.stack.push(PyVal::DateTimeText(crate::python::strip(data).to_owned()));
                return Ok(());
            }
            "value" if self.in_value => PyVal::Str(data.clone()),
            "params" => return self.set_kind(ReplyKind::Params),
            "fault" => return self.set_kind(ReplyKind::Fault),
            "methodName" => return self.set_kind(ReplyKind::MethodName),
            _ => return Ok(()),
        };
        self.stack.push(value);
        self.in_value = false;
        Ok(())
    }
}

impl ReplyBuilder {
    fn set_kind(&mut self, kind: ReplyKind) -> Result<(), Refusal> {
        self.kind = Some(kind);
        Ok(())
    }

    /// Everything pushed since the matching `<array>`/`<struct>` opened.
    fn take_marked(&mut self) -> Result<Vec<PyVal>, Refusal> {
        let Some(mark) = self.marks.pop() else {
            return malformed("array or struct closed without being opened");
        };
        Ok(self.stack.split_off(mark.min(self.stack.len())))
    }

    /// `Unmarshaller.close`, narrowed to what a [`Response`] can hold.
    fn close(self) -> Result<Response, Refusal> {
        if !self.marks.is_empty() {
            return malformed("unclosed array or struct");
        }
        let Some(kind) = self.kind else {
            return malformed("no params or fault");
        };
        if kind == ReplyKind::Fault {
            return fault_from(self.stack.into_iter().next());
        }
        let count = self.stack.len();
        let mut values = self.stack.into_iter();
        match (values.next(), count) {
            (Some(value), 1) => Ok(Response::Value(value.into_value()?)),
            _ => Err(Refusal::Unsupported(format!("reply holds {count} values, not one"))),
        }
    }
}

/// `Fault(**stack[0])`: a dict with string keys including `faultCode` and `faultString`.
fn fault_from(first: Option<PyVal>) -> Result<Response, Refusal> {
    let Some(PyVal::Dict(members)) = first else {
        return malformed("fault is not a struct");
    };
    let (mut code, mut text) = (None, None);
    for (key, value) in members {
        match key {
            PyVal::Str(k) if k == "faultCode" => code = Some(value),
            PyVal::Str(k) if k == "faultString" => text = Some(value),
            PyVal::Str(_) => {}
            _ => return malformed("fault member names must be strings"),
        }
    }
    match (code, text) {
        (Some(PyVal::Int(code)), Some(PyVal::Str(text))) => Ok(Response::Fault { code, text }),
        (Some(_), Some(_)) => Err(Refusal::Unsupported(
            "fault code is not an int or fault string is not a string".to_owned(),
        )),
        _ => malformed("fault without faultCode and faultString"),
    }
}

/// Decodes a reply body the way expat would read it: UTF-8 unless the XML declaration names
/// another encoding; of those only the two ASCII-compatible single-byte ones are supported.
fn decode_reply(body: &[u8]) -> Result<Cow<'_, str>, ResponseError> {
    let invalid = |what: &str| ResponseError::Encoding(what.to_owned());
    let encoding = xml::declared_encoding(body).map(|e| e.to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some(b"utf-8") => {
            std::str::from_utf8(body).map(Cow::Borrowed).map_err(|_| invalid("body is not UTF-8"))
        }
        Some(b"iso-8859-1") => Ok(Cow::Owned(body.iter().map(|&b| char::from(b)).collect())),
        Some(b"us-ascii") if body.is_ascii() => {
            std::str::from_utf8(body).map(Cow::Borrowed).map_err(|_| invalid("body is not ASCII"))
        }
        Some(b"us-ascii") => Err(invalid("body is not ASCII")),
        Some(other) => Err(invalid(&String::from_utf8_lossy(other))),
    }
}

/// Parses a reply body as `xmlrpc.client.loads` (under `ServerProxy`) does.
pub fn parse_method_response(body: &[u8]) -> Result<Response, ResponseError> {
    let text = decode_reply(body)?;
    let mut builder = ReplyBuilder::default();
    let parsed =
        xml::parse(&text, Namespaces::Ignored, &mut builder).and_then(|()| builder.close());
    parsed.map_err(|refusal| match refusal {
        Refusal::Malformed(why) => ResponseError::Malformed(why),
        Refusal::Unsupported(why) => ResponseError::Unsupported(why),
    })
}

// ---------------------------------------------------------------------------------------------
// Writing, byte-identical to `xmlrpc.client.dumps`.

const XML_HEADER: &str = "<?xml version='1.0'?>\n";

/// `xmlrpc.client.escape`: only `&`, `<` and `>`; control characters and CR go out raw, as
/// Python writes them.
fn escape_into(out: &mut String, text: &str) {
    // Replies are mostly names and paths with nothing to escape: one copy when there is nothing
    // to replace, else copy the runs between the three special bytes.
    if !needs_escaping(text.as_bytes()) {
        out.push_str(text);
        return;
    }
    let mut start = 0;
    for (at, byte) in text.bytes().enumerate() {
        let entity = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            _ => continue,
        };
        // The special bytes are ASCII, so `start..at` lies on char boundaries.
        out.push_str(&text[start..at]);
        out.push_str(entity);
        start = at + 1;
    }
    out.push_str(&text[start..]);
}

/// Whether `bytes` holds `&`, `<` or `>`, eight bytes at a time (the classic "has a zero byte"
/// test on the word XORed with each special byte repeated).
fn needs_escaping(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_byte = |word: u64, byte: u8| {
        let x = word ^ (ONES * u64::from(byte));
        x.wrapping_sub(ONES) & !x & HIGHS != 0
    };
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_ne_bytes(word);
        if has_byte(word, b'&') || has_byte(word, b'<') || has_byte(word, b'>') {
            return true;
        }
    }
    chunks.remainder().iter().any(|b| matches!(b, b'&' | b'<' | b'>'))
}

/// Appends an integer in decimal; `write!` through `fmt` costs several times more on the reply
/// path, where structs are mostly ints.
pub(crate) fn push_int(out: &mut String, value: i64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = value.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if value < 0 {
        out.push('-');
    }
    // SAFETY: the bytes appended are ASCII digits, so the String stays UTF-8.
    unsafe { out.as_mut_vec() }.extend_from_slice(&digits[at..]);
}

/// An int member's opening tags, through `<value><int>`; made by [`int_member!`](crate::int_member).
#[derive(Clone, Copy)]
pub struct IntMember(pub &'static str);

/// A string member's opening tags, through `<value><string>`; made by
/// [`str_member!`](crate::str_member).
#[derive(Clone, Copy)]
pub struct StrMember(pub &'static str);

/// The opening of an int member named by a literal, assembled at compile time (the name must
/// need no escaping).
#[macro_export]
macro_rules! int_member {
    ($name:literal) => {
        $crate::rpc::xmlrpc::IntMember(concat!("<member>\n<name>", $name, "</name>\n<value><int>"))
    };
}

/// The opening of a string member named by a literal, assembled at compile time.
#[macro_export]
macro_rules! str_member {
    ($name:literal) => {
        $crate::rpc::xmlrpc::StrMember(concat!(
            "<member>\n<name>",
            $name,
            "</name>\n<value><string>"
        ))
    };
}

/// Writes one `<struct>` as Python's `Marshaller.dump_struct` does, straight into a buffer: the
/// same bytes as [`Value::Struct`] with the same members, without building the tree. Each
/// member is three appends (opening, value, closing), the openings made at compile time: a
/// `getAllProcessInfo` of 100 processes writes 1,400 members.
pub struct StructWriter<'a> {
    out: &'a mut String,
}

impl<'a> StructWriter<'a> {
    #[inline]
    pub fn begin(out: &'a mut String) -> Self {
        out.push_str("<value><struct>\n");
        StructWriter { out }
    }

    #[inline]
    pub fn int(&mut self, member: IntMember, value: i64) {
        self.out.push_str(member.0);
        push_int(self.out, value);
        self.out.push_str("</int></value>\n</member>\n");
    }

    #[inline]
    pub fn str(&mut self, member: StrMember, value: &str) {
        self.out.push_str(member.0);
        escape_into(self.out, value);
        self.out.push_str("</string></value>\n</member>\n");
    }

    /// A string member whose text `write` appends itself; it must need no escaping (digits
    /// and words of our own), which saves building it first.
    #[inline]
    pub fn str_with(&mut self, member: StrMember, write: impl FnOnce(&mut String)) {
        self.out.push_str(member.0);
        write(self.out);
        self.out.push_str("</string></value>\n</member>\n");
    }

    #[inline]
    pub fn end(self) {
        self.out.push_str("</struct></value>\n");
    }
}

/// Writes the opening of an `<array>`; [`end_array`] closes it.
pub fn begin_array(out: &mut String) {
    out.push_str("<value><array><data>\n");
}

pub fn end_array(out: &mut String) {
    out.push_str("</data></array></value>\n");
}

/// Whether `Marshaller` runs with `allow_none=False` (replies), or is asked to write whatever
/// it is given (our own requests, see [`method_call`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Strictness {
    Python,
    Lenient,
}

fn dump(out: &mut String, value: &Value, strictness: Strictness) -> Result<(), EncodeError> {
    let strict = strictness == Strictness::Python;
    match value {
        Value::Int(i) => {
            out.push_str("<value><int>");
            push_int(out, *i);
            out.push_str("</int></value>\n");
        }
        Value::Bool(b) => {
            out.push_str(if *b {
                "<value><boolean>1</boolean></value>\n"
            } else {
                "<value><boolean>0</boolean></value>\n"
            });
        }
        Value::Str(s) => {
            out.push_str("<value><string>");
            escape_into(out, s);
            out.push_str("</string></value>\n");
        }
        Value::Double(f) => {
            out.push_str("<value><double>");
            out.push_str(&pyconv::float_repr(*f));
            out.push_str("</double></value>\n");
        }
        Value::DateTime(s) => {
            // `xmlrpc.client.DateTime.encode` writes its text unescaped.
            out.push_str("<value><dateTime.iso8601>");
            out.push_str(s);
            out.push_str("</dateTime.iso8601></value>\n");
        }
        Value::Base64(bytes) => {
            // `base64.encodebytes`: lines of at most 76 characters, each ending in a newline.
            out.push_str("<value><base64>\n");
            let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
            for line in encoded.as_bytes().chunks(76) {
                out.push_str(std::str::from_utf8(line).unwrap_or_default());
                out.push('\n');
            }
            out.push_str("</base64></value>\n");
        }
        Value::Array(items) => {
            out.push_str("<value><array><data>\n");
            for item in items {
                dump(out, item, strictness)?;
            }
            out.push_str("</data></array></value>\n");
        }
        Value::Struct(members) => {
            out.push_str("<value><struct>\n");
            for (name, member) in members {
                out.push_str("<member>\n<name>");
                escape_into(out, name);
                out.push_str("</name>\n");
                dump(out, member, strictness)?;
                out.push_str("</member>\n");
            }
            out.push_str("</struct></value>\n");
        }
        Value::Marshalled(xml) => out.push_str(xml),
        Value::Nil => {
            if strict {
                return Err(EncodeError::Nil);
            }
            // The `allow_none=True` form, which has no trailing newline.
            out.push_str("<value><nil/></value>");
        }
    }
    Ok(())
}

/// The body of a successful reply, byte-identical to supervisor's `xmlrpc_marshal(value)`, that
/// is `xmlrpc.client.dumps((value,), methodresponse=True)`.
pub fn method_response(value: &Value) -> Result<String, EncodeError> {
    let marshalled = if let Value::Marshalled(xml) = value { xml.len() } else { 0 };
    let mut out = String::with_capacity(512 + marshalled);
    out.push_str(XML_HEADER);
    out.push_str("<methodResponse>\n<params>\n<param>\n");
    dump(&mut out, value, Strictness::Python)?;
    out.push_str("</param>\n</params>\n</methodResponse>\n");
    Ok(out)
}

/// `value` with every [`Value::Marshalled`] part read back into a tree, for callers inside the
/// daemon that look into replies (the web UI) rather than send them.
pub fn unmarshal(value: Value) -> Value {
    match value {
        Value::Marshalled(_) => {
            let parsed = method_response(&value).ok().and_then(|xml| {
                match parse_method_response(xml.as_bytes()) {
                    Ok(Response::Value(v)) => Some(v),
                    _ => None,
                }
            });
            parsed.unwrap_or(Value::Nil)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(unmarshal).collect()),
        Value::Struct(members) => {
            Value::Struct(members.into_iter().map(|(k, v)| (k, unmarshal(v))).collect())
        }
        other => other,
    }
}

/// A fault reply body, byte-identical to supervisor's `xmlrpc_marshal(Fault(code, text))`.
/// Supervisor's fault codes are all small; a code outside 32 bits (where Python would raise
/// OverflowError) is written as given.
pub fn fault_response(code: i64, text: &str) -> String {
    let mut out = String::with_capacity(256 + text.len());
    out.push_str(XML_HEADER);
    out.push_str("<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n");
    let _ = writeln!(out, "<value><int>{code}</int></value>");
    out.push_str("</member>\n<member>\n<name>faultString</name>\n");
    out.push_str("<value><string>");
    escape_into(&mut out, text);
    out.push_str("</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n");
    out
}

/// A request body, byte-identical to `xmlrpc.client.dumps(params, method)` as `ServerProxy`
/// sends it. Like Python, the method name is written unescaped, and an empty name yields just
/// the `<params>` block. Where Python's `allow_none=False` marshaller would raise, this writes
/// anyway: `Nil` in its `allow_none=True` form and ints outside 32 bits as they are.
pub fn method_call(method: &str, params: &[Value]) -> String {
    let mut out = String::with_capacity(256);
    if !method.is_empty() {
        out.push_str(XML_HEADER);
        out.push_str("<methodCall>\n<methodName>");
        out.push_str(method);
        out.push_str("</methodName>\n");
    }
    out.push_str("<params>\n");
    for param in params {
        out.push_str("<param>\n");
        // Lenient dumping has no failure path.
        let _ = dump(&mut out, param, Strictness::Lenient);
        out.push_str("</param>\n");
    }
    out.push_str("</params>\n");
    if !method.is_empty() {
        out.push_str("</methodCall>\n");
    }
    out
}
