//! Unit tests for the XML-RPC codec. Every expected output here was produced by Python 3.11's
//! `xmlrpc.client` or supervisor 4.3.0's `loads`; compat-tests/test_xmlrpc_codec.py compares
//! against them live and at scale.

use super::pyconv::{self, PyInt};
use super::*;

fn s(text: &str) -> Value {
    Value::Str(text.to_owned())
}

fn call(body: &str) -> Result<MethodCall, RequestError> {
    parse_method_call(body.as_bytes())
}

/// The params of a one-method request whose `<params>` block is `params`.
fn params(params: &str) -> Result<Vec<Value>, RequestError> {
    call(&format!("<methodCall><methodName>m.x</methodName><params>{params}</params></methodCall>"))
        .map(|c| c.params)
}

/// The single parameter whose `<value>` holds `inner`.
fn value(inner: &str) -> Result<Value, RequestError> {
    let mut values = params(&format!("<param><value>{inner}</value></param>"))?;
    assert_eq!(values.len(), 1);
    Ok(values.remove(0))
}

fn refused(result: Result<impl std::fmt::Debug, RequestError>) -> bool {
    matches!(result, Err(RequestError::Unmarshallable(_)))
}

// ---- values ---------------------------------------------------------------------------------

#[test]
fn value_accessors_and_conversions() {
    let v = Value::Struct(vec![("name".into(), "web".into()), ("pid".into(), 42i32.into())]);
    assert_eq!(v.get("name").and_then(Value::as_str), Some("web"));
    assert_eq!(v.get("pid").and_then(Value::as_i64), Some(42));
    assert_eq!(v.get("missing"), None);
    assert_eq!(s("x").get("x"), None);
    assert_eq!(Value::from(true).as_bool(), Some(true));
    assert_eq!(Value::from(7i64).as_str(), None);
    assert_eq!(Value::from(String::from("a")), s("a"));
    assert_eq!(Value::from(vec![Value::Nil]), Value::Array(vec![Value::Nil]));
    assert_eq!(Value::from(1.5), Value::Double(1.5));
}

// ---- writing --------------------------------------------------------------------------------

#[test]
fn reply_is_byte_identical_to_python() {
    let v = Value::Struct(vec![
        ("name".into(), s("a<b")),
        ("pid".into(), Value::Int(5)),
        ("ok".into(), Value::Bool(true)),
        ("d".into(), Value::Double(1.5)),
        ("l".into(), Value::Array(vec![Value::Int(1), s("x")])),
        ("e".into(), Value::Struct(vec![])),
    ]);
    let want = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><struct>\n\
        <member>\n<name>name</name>\n<value><string>a&lt;b</string></value>\n</member>\n\
        <member>\n<name>pid</name>\n<value><int>5</int></value>\n</member>\n\
        <member>\n<name>ok</name>\n<value><boolean>1</boolean></value>\n</member>\n\
        <member>\n<name>d</name>\n<value><double>1.5</double></value>\n</member>\n\
        <member>\n<name>l</name>\n<value><array><data>\n<value><int>1</int></value>\n\
        <value><string>x</string></value>\n</data></array></value>\n</member>\n\
        <member>\n<name>e</name>\n<value><struct>\n</struct></value>\n</member>\n\
        </struct></value>\n</param>\n</params>\n</methodResponse>\n";
    assert_eq!(method_response(&v).unwrap(), want);
}

#[test]
fn fault_is_byte_identical_to_python() {
    let want = "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n\
        <name>faultCode</name>\n<value><int>10</int></value>\n</member>\n<member>\n\
        <name>faultString</name>\n<value><string>BAD_NAME: a&amp;b</string></value>\n</member>\n\
        </struct></value>\n</fault>\n</methodResponse>\n";
    assert_eq!(fault_response(10, "BAD_NAME: a&b"), want);
}

#[test]
fn request_is_byte_identical_to_python() {
    let want = "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.startProcess</methodName>\n\
        <params>\n<param>\n<value><string>foo</string></value>\n</param>\n<param>\n\
        <value><boolean>1</boolean></value>\n</param>\n<param>\n<value><array><data>\n\
        </data></array></value>\n</param>\n<param>\n<value><base64>\n\
        eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4\n\
        eHh4\n</base64></value>\n</param>\n</params>\n</methodCall>\n";
    let params = [s("foo"), Value::Bool(true), Value::Array(vec![]), Value::Base64(vec![b'x'; 60])];
    assert_eq!(method_call("supervisor.startProcess", &params), want);
    // Python's `if methodname:` leaves an empty name with just the params block.
    assert_eq!(
        method_call("", &[s("foo")]),
        "<params>\n<param>\n<value><string>foo</string></value>\n</param>\n</params>\n"
    );
    assert_eq!(
        method_call("a.b", &[Value::Nil, Value::Int(1 << 40)]),
        "<?xml version='1.0'?>\n<methodCall>\n<methodName>a.b</methodName>\n<params>\n<param>\n\
         <value><nil/></value></param>\n<param>\n<value><int>1099511627776</int></value>\n\
         </param>\n</params>\n</methodCall>\n"
    );
}

#[test]
fn strings_escape_only_amp_lt_gt() {
    let body = method_response(&s("&<>\"'\r\n\t\x01\u{1F600}")).unwrap();
    assert!(body.contains("<value><string>&amp;&lt;&gt;\"'\r\n\t\x01\u{1F600}</string></value>\n"));
    let body = method_response(&Value::Struct(vec![("<k&>".into(), Value::Int(1))])).unwrap();
    assert!(body.contains("<name>&lt;k&amp;&gt;</name>\n"));
    // DateTime text goes out raw, as `xmlrpc.client.DateTime.encode` writes it.
    let body = method_response(&Value::DateTime("2024<".into())).unwrap();
    assert!(body.contains("<value><dateTime.iso8601>2024<</dateTime.iso8601></value>\n"));
}

#[test]
fn base64_is_empty_or_76_column_lines() {
    let body = method_response(&Value::Base64(vec![])).unwrap();
    assert!(body.contains("<value><base64>\n</base64></value>\n"));
    let body = method_response(&Value::Base64(vec![0; 57])).unwrap();
    assert!(body.contains(&format!("<value><base64>\n{}\n</base64>", "A".repeat(76))));
}

#[test]
fn replies_refuse_what_python_refuses() {
    assert_eq!(method_response(&Value::Int(i64::from(i32::MAX))).map(|_| ()), Ok(()));
    assert_eq!(method_response(&Value::Int(i64::from(i32::MIN))).map(|_| ()), Ok(()));
    // Beyond 32 bits Python raises OverflowError (HTTP 500); we write the value (GOT-25).
    let big = method_response(&Value::Int(3 << 30)).unwrap();
    assert!(big.contains("<value><int>3221225472</int></value>"), "{big}");
    assert_eq!(method_response(&Value::Nil), Err(EncodeError::Nil));
    // The first offender in document order wins, as in Python's recursive dump.
    let v =
        Value::Array(vec![Value::Struct(vec![("a".into(), Value::Nil)]), Value::Int(-(1 << 40))]);
    assert_eq!(method_response(&v), Err(EncodeError::Nil));
}

#[test]
fn doubles_are_written_as_python_repr() {
    let cases = [
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (1e16, "1e+16"),
        (1e15, "1000000000000000.0"),
        (1e-5, "1e-05"),
        (0.0001, "0.0001"),
        (0.1, "0.1"),
        (123.0, "123.0"),
        // An exact tie between two 16-digit candidates: Python rounds half to even.
        (604_597_551_680_833.0 + 0.25, "604597551680833.2"),
        (5e-324, "5e-324"),
        (1.797_693_134_862_315_7e308, "1.7976931348623157e+308"),
        (1e22, "1e+22"),
        (-1.5e-7, "-1.5e-07"),
        (2.5e-310, "2.5e-310"),
        (f64::INFINITY, "inf"),
        (f64::NEG_INFINITY, "-inf"),
        (f64::NAN, "nan"),
    ];
    for (f, want) in cases {
        assert_eq!(pyconv::float_repr(f), want, "{f:e}");
    }
}

// ---- reading requests -----------------------------------------------------------------------

#[test]
fn parses_what_supervisorctl_sends() {
    let body = method_call(
        "supervisor.startProcess",
        &[s("web:web_00"), Value::Bool(true), Value::Int(-7), Value::Double(0.5)],
    );
    let got = call(&body).unwrap();
    assert_eq!(got.method, "supervisor.startProcess");
    assert_eq!(
        got.params,
        [s("web:web_00"), Value::Bool(true), Value::Int(-7), Value::Double(0.5)]
    );
    let multicall = Value::Array(vec![Value::Struct(vec![
        ("methodName".into(), s("supervisor.getPID")),
        ("params".into(), Value::Array(vec![])),
    ])]);
    let got = call(&method_call("system.multicall", std::slice::from_ref(&multicall))).unwrap();
    assert_eq!(got.params, [multicall]);
}

#[test]
fn missing_params_means_no_params_and_method_name_is_required() {
    assert_eq!(
        call("<methodCall><methodName>a.b</methodName></methodCall>"),
        Ok(MethodCall { method: "a.b".into(), params: vec![] })
    );
    assert_eq!(call("<methodCall><methodName/></methodCall>"), Err(RequestError::NoMethodName));
    assert_eq!(call("<methodCall><params/></methodCall>"), Err(RequestError::NoMethodName));
    // Whitespace is a name (dispatch then answers UNKNOWN_METHOD), and the last one wins.
    assert_eq!(call("<m><methodName> </methodName></m>").unwrap().method, " ");
    assert_eq!(
        call("<m><methodName>a</methodName><methodName>b</methodName></m>").unwrap().method,
        "b"
    );
    assert_eq!(
        call("<m><methodName>a</methodName><methodName/></m>"),
        Err(RequestError::NoMethodName)
    );
    // `elem.text` stops at the first child element.
    assert_eq!(call("<m><methodName>a<b/>c</methodName></m>").unwrap().method, "a");
    // Any root, any depth.
    assert_eq!(call("<x><y><methodName>n.m</methodName></y></x>").unwrap().method, "n.m");
}

#[test]
fn untyped_values_are_strings_with_whitespace_kept() {
    assert_eq!(value("  spaced  "), Ok(s("  spaced  ")));
    assert_eq!(value(""), Ok(s("")));
    assert_eq!(value("a\r\nb\rc"), Ok(s("a\nb\nc")));
    assert_eq!(value("x<!-- c -->y"), Ok(s("xy")));
    assert_eq!(value("<![CDATA[<&>]]>"), Ok(s("<&>")));
    assert_eq!(value("&amp;&lt;&gt;&quot;&apos;&#65;&#x1F600;&#13;"), Ok(s("&<>\"'A\u{1F600}\r")));
    // A typed child wins over surrounding text.
    assert_eq!(value(" <string>x</string> "), Ok(s("x")));
}

#[test]
fn scalars_follow_pythons_builtins() {
    assert_eq!(value("<int> 5 </int>"), Ok(Value::Int(5)));
    assert_eq!(value("<i4>+5_000</i4>"), Ok(Value::Int(5000)));
    assert_eq!(value("<int>\u{665}</int>"), Ok(Value::Int(5)));
    assert_eq!(value("<int>99999999999</int>"), Ok(Value::Int(99_999_999_999)));
    assert!(refused(value("<int>abc</int>")));
    assert!(refused(value("<int/>")));
    assert!(refused(value("<int>1__0</int>")));
    assert_eq!(value("<boolean>1</boolean>"), Ok(Value::Bool(true)));
    assert_eq!(value("<boolean>true</boolean>"), Ok(Value::Bool(false)));
    assert_eq!(value("<boolean> 1</boolean>"), Ok(Value::Bool(false)));
    assert_eq!(value("<boolean/>"), Ok(Value::Bool(false)));
    assert_eq!(value("<double> 1_0.5 </double>"), Ok(Value::Double(10.5)));
    assert_eq!(value("<double>-Infinity</double>"), Ok(Value::Double(f64::NEG_INFINITY)));
    assert!(refused(value("<double>1e</double>")));
    assert_eq!(value("<string/>"), Ok(s("")));
    assert_eq!(value("<string>a<b/>c</string>"), Ok(s("a")));
}

#[test]
fn unknown_tags_give_their_text_or_nil() {
    assert_eq!(value("<i8>5</i8>"), Ok(s("5")));
    assert_eq!(value("<nil/>"), Ok(Value::Nil));
    assert_eq!(value("<ex:i8 xmlns:ex='urn:x'>5</ex:i8>"), Ok(s("5")));
    // A namespaced `int` is just another unknown tag to ElementTree.
    assert_eq!(value("<int xmlns='urn:x'>5</int>"), Ok(s("5")));
    assert_eq!(value("<foo><bar>x</bar></foo>"), Ok(Value::Nil));
    // Expat refuses an undeclared prefix.
    assert!(refused(value("<ex:i8>5</ex:i8>")));
}

#[test]
fn dates_and_base64_as_supervisor_reads_them() {
    assert_eq!(
        value("<dateTime.iso8601>20240102T03:04:05</dateTime.iso8601>"),
        Ok(Value::DateTime("20240102T03:04:05".into()))
    );
    assert_eq!(
        value("<dateTime.iso8601>2024012t3:4:5</dateTime.iso8601>"),
        Ok(Value::DateTime("20240102T03:04:05".into()))
    );
    assert!(refused(value("<dateTime.iso8601>20230229T00:00:00</dateTime.iso8601>")));
    assert!(refused(value("<dateTime.iso8601>20240101T00:00:60</dateTime.iso8601>")));
    assert!(refused(value("<dateTime.iso8601>20240101T00:00:00 </dateTime.iso8601>")));
    assert_eq!(value("<base64>aGVs\nbG8=junk</base64>"), Ok(s("hello")));
    assert_eq!(value("<base64/>"), Ok(s("")));
    assert!(refused(value("<base64>//8=</base64>")), "not UTF-8 text");
    assert!(refused(value("<base64>a</base64>")), "leftover bits");
}

#[test]
fn arrays_and_structs_follow_elementtree() {
    assert_eq!(
        value("<array><data><value>a</value><value><array><data/></array></value></data></array>"),
        Ok(Value::Array(vec![s("a"), Value::Array(vec![])]))
    );
    assert!(refused(value("<array/>")), "x[0] of a childless array");
    assert_eq!(value("<array><foo/></array>"), Ok(Value::Nil));
    // Repeated names keep the first position and take the last value.
    assert_eq!(
        value(
            "<struct><member><name>a</name><value>1</value></member>\
             <member><name>b</name><value>2</value></member>\
             <member><name>a</name><value>3</value></member></struct>"
        ),
        Ok(Value::Struct(vec![("a".into(), s("3")), ("b".into(), s("2"))]))
    );
    // A member is any element with exactly two children: the first's value names it.
    assert_eq!(
        value(
            "<struct><member><value><int>1</int></value><value>x</value></member>\
             <member><value><boolean>1</boolean></value><value>y</value></member>\
             <member><value><int>0</int></value><value>z</value></member></struct>"
        ),
        Ok(Value::Struct(vec![("1".into(), s("y")), ("".into(), s("z"))]))
    );
    assert!(refused(value("<struct><member><name>a</name></member></struct>")));
    assert!(refused(value(
        "<struct><member><value><array><data><value>1</value></data></array></value><value/></member></struct>"
    )));
}

#[test]
fn refuses_what_expat_refuses() {
    for body in [
        "",
        "hello",
        "<methodCall><methodName>x</methodName>",
        "<methodCall><methodName>x</methodName></methodCall><extra/>",
        "<methodCall><methodName>x</methodName></methodCall>junk",
        "<methodCall><methodName>&bogus;</methodName></methodCall>",
        "<methodCall><methodName>]]></methodName></methodCall>",
        "<methodCall><methodName>\u{1}</methodName></methodCall>",
        "<methodCall a='1' a='2'><methodName>x</methodName></methodCall>",
        "<methodCall xmlns:p=''><methodName>x</methodName></methodCall>",
        "<methodCall><a:b:c/><methodName>x</methodName></methodCall>",
        " <?xml version='1.0'?><methodCall><methodName>x</methodName></methodCall>",
        "<?xml version='1.0' standalone='maybe'?><methodCall><methodName>x</methodName></methodCall>",
        "<methodCall><!-- a -- b --><methodName>x</methodName></methodCall>",
    ] {
        assert!(refused(call(body)), "{body:?}");
    }
}

#[test]
fn accepts_the_prologs_expat_accepts() {
    for body in [
        "\u{feff}<methodCall><methodName>x</methodName></methodCall>",
        "<?xml version='1.0' encoding='ISO-8859-1'?><methodCall><methodName>x</methodName></methodCall>",
        "<?xml version=\"abc\" encoding=\"utf-16\" standalone=\"no\" ?><m><methodName>x</methodName></m>",
        "<!DOCTYPE m PUBLIC '-//x//EN' 'x.dtd' [ <!-- c --> ]><m><methodName>x</methodName></m>",
        "<?pi data?><!-- c --><m\n><methodName\t>x</methodName ></m><!-- after -->\n",
    ] {
        assert_eq!(call(body).map(|c| c.method), Ok("x".to_owned()), "{body:?}");
    }
    assert_eq!(
        parse_method_call(b"\xef\xbb\xbf<m><methodName>x</methodName></m>").map(|c| c.method),
        Ok("x".to_owned())
    );
}

#[test]
fn documented_refusals() {
    // Python passes a 20-digit int on to the method; a Value cannot hold it.
    assert!(refused(value("<int>99999999999999999999</int>")));
    // Python's collector fails to decode and drops the connection; we answer 400.
    assert!(refused(parse_method_call(b"<m><methodName>\xff</methodName></m>")));
    // Expat would expand the entity; we refuse DTD declarations outright.
    assert!(refused(call("<!DOCTYPE m [<!ENTITY e 'x'>]><m><methodName>&e;</methodName></m>")));
    let deep = |n: usize| {
        format!("<m><methodName>x</methodName>{}{}</m>", "<a>".repeat(n), "</a>".repeat(n))
    };
    assert!(call(&deep(xml::MAX_DEPTH - 1)).is_ok());
    assert!(refused(call(&deep(xml::MAX_DEPTH))));
}

#[test]
fn large_structs_stay_fast() {
    let members: String = (0..50_000)
        .map(|i| {
            format!("<member><name>k{}</name><value><int>{i}</int></value></member>", i % 25_000)
        })
        .collect();
    let Ok(Value::Struct(got)) = value(&format!("<struct>{members}</struct>")) else {
        panic!("struct expected");
    };
    assert_eq!(got.len(), 25_000);
    assert_eq!(got[0], ("k0".to_owned(), Value::Int(25_000)));
}

// ---- reading replies ------------------------------------------------------------------------

#[test]
fn reads_replies_and_faults() {
    let body =
        method_response(&Value::Array(vec![s("a"), Value::Int(1), Value::Base64(b"hi".to_vec())]))
            .unwrap();
    assert_eq!(
        parse_method_response(body.as_bytes()),
        Ok(Response::Value(Value::Array(vec![
            s("a"),
            Value::Int(1),
            Value::Base64(b"hi".to_vec())
        ])))
    );
    let body = fault_response(60, "ALREADY_STARTED: foo");
    assert_eq!(
        parse_method_response(body.as_bytes()),
        Ok(Response::Fault { code: 60, text: "ALREADY_STARTED: foo".into() })
    );
}

fn reply(inner: &str) -> Result<Response, ResponseError> {
    parse_method_response(
        format!("<methodResponse><params><param><value>{inner}</value></param></params></methodResponse>")
            .as_bytes(),
    )
}

#[test]
fn replies_follow_xmlrpc_client() {
    assert_eq!(reply("<nil/>"), Ok(Response::Value(Value::Nil)));
    assert_eq!(reply("<i8>-9</i8>"), Ok(Response::Value(Value::Int(-9))));
    assert_eq!(reply("<ex:i8>9</ex:i8>"), Ok(Response::Value(Value::Int(9))));
    assert_eq!(reply(" untyped "), Ok(Response::Value(s(" untyped "))));
    assert_eq!(
        reply("<dateTime.iso8601> x </dateTime.iso8601>"),
        Ok(Response::Value(Value::DateTime("x".into())))
    );
    assert!(matches!(reply("<boolean>true</boolean>"), Err(ResponseError::Malformed(_))));
    assert!(matches!(reply("<foo>x</foo>"), Err(ResponseError::Malformed(_))));
    assert!(matches!(reply("<i8>9223372036854775808</i8>"), Err(ResponseError::Unsupported(_))));
    assert!(matches!(reply("<bigdecimal>1</bigdecimal>"), Err(ResponseError::Unsupported(_))));
    assert!(matches!(
        parse_method_response(b"<methodResponse><params></params></methodResponse>"),
        Err(ResponseError::Unsupported(_))
    ));
    assert!(matches!(
        parse_method_response(b"<methodResponse/>"),
        Err(ResponseError::Malformed(_))
    ));
    assert!(matches!(parse_method_response(b"junk"), Err(ResponseError::Malformed(_))));
}

#[test]
fn reply_encodings() {
    let latin1 = b"<?xml version='1.0' encoding='ISO-8859-1'?><methodResponse><params><param>\
        <value>\xe9</value></param></params></methodResponse>";
    assert_eq!(parse_method_response(latin1), Ok(Response::Value(s("\u{e9}"))));
    let utf16 = b"<?xml version='1.0' encoding='UTF-16'?><methodResponse/>";
    assert!(matches!(parse_method_response(utf16), Err(ResponseError::Encoding(_))));
    assert!(matches!(parse_method_response(b"<a>\xff</a>"), Err(ResponseError::Encoding(_))));
}

// ---- Python builtins ------------------------------------------------------------------------

#[test]
fn python_int() {
    assert_eq!(pyconv::int(" -0 "), Some(PyInt::Small(0)));
    assert_eq!(pyconv::int("\u{a0}+1_2\u{2003}"), Some(PyInt::Small(12)));
    assert_eq!(pyconv::int("9223372036854775807"), Some(PyInt::Small(i64::MAX)));
    assert_eq!(
        pyconv::int("-9223372036854775809"),
        Some(PyInt::Big("-9223372036854775809".into()))
    );
    assert!(pyconv::int(&"1".repeat(4300)).is_some());
    assert_eq!(pyconv::int(&"0".repeat(4301)), None);
    for bad in ["", " ", "+", "_1", "1_", "1__2", "0x1", "1.0", "1 2", "\u{666}a"] {
        assert_eq!(pyconv::int(bad), None, "{bad:?}");
    }
}

#[test]
fn python_float() {
    assert_eq!(pyconv::float(" 1_0.5 "), Some(10.5));
    assert_eq!(pyconv::float("\u{661}.\u{665}"), Some(1.5));
    assert_eq!(pyconv::float("5."), Some(5.0));
    assert_eq!(pyconv::float("+.5e1_0"), Some(5e9));
    assert_eq!(pyconv::float("1e400"), Some(f64::INFINITY));
    assert!(pyconv::float("-nan").is_some_and(|f| f.is_nan() && f.is_sign_negative()));
    for bad in ["", ".", "1e", "e5", "1._5", "1_e5", "infinit", "nan(1)", "0x1p3", "1,5"] {
        assert_eq!(pyconv::float(bad), None, "{bad:?}");
    }
}

#[test]
fn python_base64() {
    assert_eq!(crate::python::a2b_base64(b"aGVsbG8="), Some(b"hello".to_vec()));
    assert_eq!(crate::python::a2b_base64(b"aGVs*bG8"), None);
    assert_eq!(crate::python::a2b_base64(b"aGVs*bG8=rest"), Some(b"hello".to_vec()));
    assert_eq!(crate::python::a2b_base64(b"=ab="), None);
    assert_eq!(crate::python::a2b_base64(b"ab=c"), None);
    assert_eq!(crate::python::a2b_base64(b"ab=="), Some(vec![0x69]));
    assert_eq!(crate::python::a2b_base64(b""), Some(vec![]));
}

#[test]
fn python_strptime() {
    let dt = pyconv::parse_iso8601("2024111T1:2:3").unwrap();
    assert_eq!(dt.iso8601(), "20241101T01:02:03", "the regex takes month 11 before month 1");
    assert_eq!(pyconv::parse_iso8601("202401 1T00:00:00").map(|d| d.day), Some(1));
    assert_eq!(
        pyconv::parse_iso8601("\u{662}\u{660}\u{662}\u{664}0229T00:00:59").map(|d| d.year),
        Some(2024)
    );
    for bad in
        ["00000101T00:00:00", "20230229T00:00:00", "20240101T24:00:00", "20240101T00:00:001", ""]
    {
        assert_eq!(pyconv::parse_iso8601(bad), None, "{bad:?}");
    }
}

#[test]
fn struct_writer_writes_what_the_value_tree_would() {
    let tree = Value::Array(vec![Value::Struct(vec![
        ("name".into(), Value::Str("a<b>&c".into())),
        ("pid".into(), Value::Int(-42)),
        ("now".into(), Value::Int(i64::from(i32::MAX))),
        ("empty".into(), Value::Str(String::new())),
    ])]);
    let mut xml = String::new();
    begin_array(&mut xml);
    let mut s = StructWriter::begin(&mut xml);
    s.str(crate::str_member!("name"), "a<b>&c");
    s.int(crate::int_member!("pid"), -42);
    s.int(crate::int_member!("now"), i64::from(i32::MAX));
    s.str(crate::str_member!("empty"), "");
    s.end();
    end_array(&mut xml);
    assert_eq!(method_response(&Value::Marshalled(xml)), method_response(&tree));
}

#[test]
fn the_word_at_a_time_escape_test_finds_every_special_byte() {
    for len in 0..20 {
        for at in 0..len {
            for special in [b'&', b'<', b'>'] {
                let mut text = vec![b'a'; len];
                text[at] = special;
                assert!(needs_escaping(&text), "{len} {at}");
            }
        }
        assert!(!needs_escaping(&vec![b'a'; len]));
        // Bytes next to the specials, and high bytes, are not specials.
        assert!(!needs_escaping(&b"%';=?\x80\xff\xa6\xbc%';=?".repeat(len)));
    }
}
