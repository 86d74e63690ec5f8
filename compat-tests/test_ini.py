"""Differential tests of the INI reader (src/config/ini.rs, probe mode `ini`) against
supervisor 4.3.0's UnhosedConfigParser on Python 3.11.

Python reads real files (written in binary, so universal-newline decoding and the
section_to_file bookkeeping of UnhosedConfigParser.read are part of what is compared); the probe
gets the same text and the same path as its source name.
"""
import configparser
import os
import random
import sys
import tempfile

import pytest

from supervisor.options import UnhosedConfigParser

HERE = "/etc/it's here"
SEED = int(os.environ.get("INI_SEED", "20240611"))
CASES = int(os.environ.get("INI_CASES", "4000"))


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    # Thousands of small files are written: a tmpfs makes that several times faster.
    if os.access("/dev/shm", os.W_OK):
        with tempfile.TemporaryDirectory(dir="/dev/shm", prefix="ini-") as base:
            yield _names(base)
    else:
        yield _names(str(tmp_path_factory.mktemp("ini")))


def _names(base):
    # Quotes in the names make the repr() in error messages worth comparing.
    return [os.path.join(base, name) for name in ("main.conf", "inc'1.conf", 'inc "2".conf')]


def _dump(parser):
    sections = parser.sections()
    return {
        "sections": sections,
        "items": [[list(kv) for kv in parser.items(s)] for s in sections],
        "options": [parser.options(s) for s in sections],
        "files": [parser.section_to_file.get(s) for s in sections],
        "defaults": [list(kv) for kv in parser.defaults().items()],
    }


def _py_read(texts, paths):
    parser = UnhosedConfigParser()
    error = None
    for text, path in zip(texts, paths):
        with open(path, "wb") as f:
            f.write(text.encode("utf-8"))
        try:
            parser.read(path)
        except configparser.ParsingError as e:
            error = str(e)
            break
    return parser, error


def _queries(parser):
    names = set(parser.defaults())
    for s in parser.sections():
        names.update(parser.options(s))
    options = sorted(names) + sorted({n.upper() for n in names} - names) + ["nope"]
    sections = parser.sections() + ["DEFAULT", "", "nope"]
    return [[s, o] for s in sections for o in options]


def python_side(texts, paths, here):
    parser, error = _py_read(texts, paths)
    queries = _queries(parser)
    result = {
        "error": error,
        "state": _dump(parser),
        "gets": [parser.get(s, o, fallback=None) for s, o in queries],
        "has": [parser.has_option(s, o) for s, o in queries],
        "expanded": None,
    }
    if here is not None:
        # Last, because it changes the state compared above (the probe expands a copy).
        parser.expand_here(here)
        result["expanded"] = _dump(parser)
    return result, queries


def compare(probe, texts, paths, here=HERE):
    """Returns (python, rust) results for the same files."""
    paths = paths[: len(texts)]
    py, queries = python_side(texts, paths, here)
    request = {
        "mode": "ini",
        "op": "parse",
        "files": [{"text": t, "source": p} for t, p in zip(texts, paths)],
        "queries": queries,
        "here": here,
    }
    return py, probe.call(request)


# --- hand cases (DEPS.md §3 and the ways rust-ini went wrong) ---------------------------------
# Each: (id, text, expected): expected maps (section, option) to the value, or None for absent;
# the key "error" holds a substring of the error text (or None for no error). The expectations are
# checked against Python too, so a wrong expectation fails loudly rather than silently agreeing.

HAND = [
    ("inline-after-space", "[s]\na = b ;c\n", {("s", "a"): "b", "error": None}),
    ("inline-no-space", "[s]\na = b;c\n", {("s", "a"): "b;c"}),
    ("inline-right-after-delim", "[s]\nb =;y\n", {("s", "b"): ";y"}),
    ("inline-whole-value", "[s]\nc = ;comment\n", {("s", "c"): ""}),
    ("inline-rounds", "[s]\na=b;c d ;e #f\n", {("s", "a"): "b;c d ;e"}),
    ("inline-rounds-hash-first", "[s]\na=b#c d #e ;f\n", {("s", "a"): "b#c d #e"}),
    ("inline-tab", "[s]\na = x\t#y\n", {("s", "a"): "x"}),
    ("inline-x1c", "[s]\na = x\x1c;y\n", {("s", "a"): "x"}),
    ("hash-then-next-key", "[s]\na = b #c\nd = e#f\n", {("s", "a"): "b", ("s", "d"): "e#f"}),
    ("indented-comment", "[s]\na = 1\n    ; not part\n  # nor this\n  more\n",
     {("s", "a"): "1\nmore"}),
    ("indented-comment-first", "[s]\n  ;x = 1\n", {("s", ";x"): None, ("s", "x"): None}),
    ("same-indent-keys", "[s]\n  a = 1\n  b = 2\n", {("s", "a"): "1", ("s", "b"): "2"}),
    ("deeper-continuation", "[s]\n  a = 1\n   b = 2\n", {("s", "a"): "1\nb = 2", ("s", "b"): None}),
    ("continuation-after-shallower", "[s]\n  a = 1\nb = 2\n c\n",
     {("s", "a"): "1", ("s", "b"): "2\nc"}),
    ("blank-lines-kept", "[s]\na = 1\n\n  2\n\n\nb = x\n\n", {("s", "a"): "1\n\n2", ("s", "b"): "x"}),
    ("empty-first-line", "[s]\na =\n  x\n  y\n", {("s", "a"): "\nx\ny"}),
    ("comment-between-lines", "[s]\na = 1\n#c\n  2\n", {("s", "a"): "1\n2"}),
    ("indented-header-in-value", "[s]\na = 1\n  [t]\n", {("s", "a"): "1\n[t]", ("t", "a"): None}),
    ("first-delimiter", "[s]\nc : d = e\nf = g : h\n", {("s", "c"): "d = e", ("s", "f"): "g : h"}),
    ("key-with-spaces", "[s]\nKey  With Space \t= v\n", {("s", "key  with space"): "v"}),
    ("lowercased-keys", "[s]\nFOO = 1\n", {("s", "foo"): "1", ("s", "FOO"): "1"}),
    ("section-case", "[Sec]\na = 1\n", {("Sec", "a"): "1", ("sec", "a"): None}),
    ("section-not-trimmed", "[ s ]\na = 1\n", {(" s ", "a"): "1", ("s", "a"): None}),
    ("section-junk", "[s3]junk\na = 1\n", {("s3", "a"): "1"}),
    ("section-greedy", "[a]b]\nx = 1\n", {("a]b", "x"): "1"}),
    ("section-inline-comment", "[s] ;c\nx = 1\n", {("s", "x"): "1"}),
    ("section-comment-cuts-bracket", "[s]\n[v #w]\n", {"error": "[line  2]: '[v #w]\\n'"}),
    ("empty-header", "[s]\n[]\n", {"error": "[line  2]: '[]\\n'"}),
    ("empty-header-then-bracket", "[]]\nx = 1\n", {("]", "x"): "1"}),
    ("dup-keys-last-wins", "[s]\na = 1\nA = 2\n", {("s", "a"): "2"}),
    ("dup-sections-merge", "[s]\na = 1\n[t]\nb = 2\n[s]\nc = 3\n",
     {("s", "a"): "1", ("s", "c"): "3", ("t", "b"): "2"}),
    ("percent-untouched", "[s]\na = 100%% %(here)s\n", {("s", "a"): "100%% %(here)s"}),
    ("no-delimiter", "[s]\njunk\na = 1\nmore junk\n",
     {"error": "Source contains parsing errors: ", ("s", "a"): "1"}),
    ("empty-key", "[s]\n= v\n", {"error": "[line  2]: '= v\\n'"}),
    ("option-before-section", "a = 1\n[s]\n", {"error": "File contains no section headers."}),
    ("indented-option-before-section", "\n\n   a = 1\n", {"error": "line: 3\n'   a = 1\\n'"}),
    ("comment-before-section", "# c\n; d\n\n[s]\na = 1\n", {("s", "a"): "1"}),
    ("default-inherited", "[DEFAULT]\nx = 1\n[s]\ny = 2\n",
     {("s", "x"): "1", ("s", "y"): "2", ("DEFAULT", "x"): "1", ("DEFAULT", "y"): None}),
    ("default-lowercase-is-plain", "[default]\nx = 1\n[s]\n", {("default", "x"): "1", ("s", "x"): None}),
    ("default-overridden", "[DEFAULT]\nx = 1\n[s]\nx = 2\n", {("s", "x"): "2"}),
    ("quotes-literal", '[s]\na = "q" \'r\'\n', {("s", "a"): '"q" \'r\''}),
    ("backslash-literal", "[s]\na = x\\\nb = y\\n\n", {("s", "a"): "x\\", ("s", "b"): "y\\n"}),
    ("crlf", "[s]\r\na = 1\r\n  2\r\nb = 3\r\n", {("s", "a"): "1\n2", ("s", "b"): "3"}),
    ("cr-only", "[s]\ra = 1\r  2\rb = 3", {("s", "a"): "1\n2", ("s", "b"): "3"}),
    ("crlf-blank-lines", "[s]\r\na = 1\r\n\r\n\r\n  2\r\n", {("s", "a"): "1\n\n\n2"}),
    ("formfeed-not-newline", "[s]\na = 1\x0cb = 2\n", {("s", "a"): "1\x0cb = 2", ("s", "b"): None}),
    ("ls-not-newline", "[s]\na = 1\u2028b = 2\x85c\n", {("s", "a"): "1\u2028b = 2\x85c"}),
    ("python-whitespace", "[s]\n\x1fa\xa0=\u3000 1 \x1c\x1d\n", {("s", "a"): "1"}),
    ("wide-indent", "[s]\n\u3000a = 1\n\u3000 b\n\u3000c = 2\n",
     {("s", "a"): "1\nb", ("s", "c"): "2"}),
    ("line-number-padding", "[s]\n" + "\n" * 120 + "junk\n", {"error": "[line 122]: 'junk\\n'"}),
    ("no-trailing-newline-error", "[s]\njunk", {"error": "[line  2]: 'junk'"}),
    ("sigma-key", "[s]\nΟΔΟΣ = 1\nΣΑ = 2\n", {("s", "οδος"): "1", ("s", "σα"): "2"}),
    ("dotted-i-key", "[s]\nİ = 1\n", {("s", "i\u0307"): "1"}),
    ("bom-is-not-stripped", "\ufeff[s]\na = 1\n", {"error": "line: 1\n'\\ufeff[s]\\n'"}),
    ("controls-in-value", "[s]\na = \x00\x01\x7f\x1b z\n", {("s", "a"): "\x00\x01\x7f\x1b z"}),
    ("here-expansion", "[DEFAULT]\nd = %(here)s/d\n[s]\na = %(here)s\n", {("s", "d"): "%(here)s/d"}),
]


def _check_expectations(probe, text, expected, paths):
    py, rust = compare(probe, [text], paths)
    assert rust == py
    parser, error = _py_read([text], paths)
    for key, want in expected.items():
        if key == "error":
            if want is None:
                assert error is None
            else:
                assert error is not None and want in error, error
        else:
            section, option = key
            assert parser.get(section, option, fallback=None) == want, key


@pytest.mark.parametrize("text,expected", [c[1:] for c in HAND], ids=[c[0] for c in HAND])
def test_hand_case(probe, paths, text, expected):
    _check_expectations(probe, text, expected, paths)


def test_multiple_files(probe, paths):
    texts = [
        "[a]\nx = 1\n[DEFAULT]\nd = %(here)s\n",
        "[a]\ny = 2\n[b]\nz = %(here)s/z\n",
        "[c]\nw = 3\n",
    ]
    py, rust = compare(probe, texts, paths)
    assert rust == py
    assert py["state"]["files"] == paths


def test_error_in_second_file_keeps_first(probe, paths):
    texts = ["[a]\nx = 1\n", "[b]\ny = 2\njunk\n", "[c]\n"]
    py, rust = compare(probe, texts, paths)
    assert rust == py
    assert py["error"].startswith("Source contains parsing errors: ")
    assert py["state"]["files"] == [paths[0], None]


def test_missing_header_in_included_file(probe, paths):
    py, rust = compare(probe, ["[a]\nx = 1\n", "  y = 2\n"], paths)
    assert rust == py
    assert "File contains no section headers." in py["error"]


def test_lower_matches_python(probe):
    """optionxform over every code point that can have case, alone and in the contexts that
    decide Greek final sigma."""
    cps = [c for c in range(0x20000) if not 0xD800 <= c < 0xE000]
    cps += list(range(0xE0000, 0xE0080))
    texts = []
    for cp in cps:
        c = chr(cp)
        texts += [c, c + "Σ", "Α" + c + "Σ", "ΑΣ" + c]
    rust = probe.call({"mode": "ini", "op": "lower", "texts": texts})["lower"]
    bad = [(t, t.lower(), r) for t, r in zip(texts, rust) if t.lower() != r]
    assert not bad, f"{len(bad)} differ, first: {bad[:10]!r}"


# --- randomized differential test --------------------------------------------------------------

WS = [" "] * 8 + ["\t"] * 4 + ["\x0c", "\x0b", "\x1c", "\x1d", "\x1e", "\x1f", "\xa0", "\u3000"]
INDENTS = ["", "", "", "", " ", "  ", "   ", "\t", "    ", "\u3000", "\x1c", " \t"]
KEYS = ["a", "A", "b", "key", "Key Two", "x y", "files", "command", "ÄÖ", "ΟΔΟΣ", "İ", "ß",
        "k;v", "k#v", "k\tz", "é", "ΣΑ", "ΑΣ\u0301"]
SECTIONS = ["s", "S", " s ", "t", "DEFAULT", "default", "program:x", "include", "a]b", "s;c",
            "é", "]", "[x", "σ Σ"]
HEADER_TAILS = ["", "", "", "junk", " ;c", ";c", " #c", "#c", "]", " x]"]
VALUES = ["1", "x", "hello world", "%(here)s", "%(here)s/log", "a=b", "c:d", "v;w", "v #w",
          "p ;q", ";", "#", "Σ", "é", '"q"', "\\", "100%%", "", "[t]", "=", "ΟΔΟΣ"]
COMMENT_TAILS = ["", "", "", " ;c", ";c", " #c", "#c", "\t;", " ; a #b", " # a ;b"]


def _ws(r, most=3):
    return "".join(r.choice(WS) for _ in range(r.choice([0, 0, 0, 1, 1, 2, most])))


def _value(r):
    parts = [r.choice(VALUES) for _ in range(r.choice([1, 1, 2, 3]))]
    return "".join(p + (_ws(r) if i < len(parts) - 1 else "") for i, p in enumerate(parts))


def _line(r, last_indent):
    """One line and the indent of the option it belongs to (None right after a header).
    Continuation lines usually go deeper than the last option and usually follow one, so that
    most files parse and the errors stay a minority."""
    kind = r.choices(
        ["header", "option", "continuation", "blank", "comment", "junk", "emptykey", "badheader"],
        weights=[12, 40, 18, 10, 8, 1, 1, 1])[0]
    if kind == "continuation" and last_indent is None and r.random() < 0.9:
        kind = "option"
    indent = r.choice(INDENTS)
    if kind == "header":
        return indent + "[" + r.choice(SECTIONS) + "]" + r.choice(HEADER_TAILS), None
    if kind == "option":
        return (indent + r.choice(KEYS) + _ws(r) + r.choice("==:") + _ws(r) + _value(r)
                + r.choice(COMMENT_TAILS)), indent
    if kind == "continuation":
        if r.random() < 0.8:
            indent = (last_indent or "") + r.choice(INDENTS[4:])
        return indent + _value(r) + r.choice(COMMENT_TAILS), last_indent
    if kind == "blank":
        return _ws(r, 4), last_indent
    if kind == "comment":
        return indent + r.choice("#;") + _value(r), last_indent
    if kind == "junk":
        return indent + r.choice(["junk", "no delimiter here", "[unclosed", "x ;=y"]), indent
    if kind == "emptykey":
        return indent + r.choice("=:") + _value(r), indent
    return indent + r.choice(["[]", "[]x", "[ ", "[]]"]), indent


def _text(r):
    lines = []
    last_indent = None
    if r.random() < 0.9:
        lines.append(r.choice(INDENTS[:6]) + "[" + r.choice(SECTIONS) + "]")
    for _ in range(r.randint(1, 12)):
        line, last_indent = _line(r, last_indent)
        lines.append(line)
    style = r.choices(["\n", "\r\n", "\r", "mixed"], weights=[6, 2, 1, 1])[0]
    out = []
    for line in lines:
        out.append(line)
        out.append(r.choice(["\n", "\r\n", "\r"]) if style == "mixed" else style)
    if r.random() < 0.2:
        out.pop()
    return "".join(out)


def _case(r):
    texts = [_text(r) for _ in range(r.choices([1, 2, 3], weights=[7, 2, 1])[0])]
    return texts, r.choice([HERE, "/x", "%(here)s"])


def test_random_differential(probe, paths):
    r = random.Random(SEED)
    mismatches = []
    stats = {"cases": 0, "errors": 0, "multiline": 0, "multi_file": 0}
    for i in range(CASES):
        texts, here = _case(r)
        py, rust = compare(probe, texts, paths, here)
        stats["cases"] += 1
        stats["errors"] += py["error"] is not None
        stats["multi_file"] += len(texts) > 1
        stats["multiline"] += any(
            "\n" in v for items in py["state"]["items"] for _, v in items)
        if rust != py:
            diff = {k: (py[k], rust.get(k)) for k in py if py[k] != rust.get(k)}
            mismatches.append((i, texts, here, diff))
    print(f"\nini random differential (seed {SEED}): {stats}, mismatches {len(mismatches)}",
          file=sys.stderr)
    assert not mismatches, "first mismatches:\n" + "\n".join(
        f"case {i}: texts={t!r} here={h!r}\n  (python, rust) per key: {d!r}"
        for i, t, h, d in mismatches[:5])
