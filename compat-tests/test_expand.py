"""Differential tests for `%(name)s` expansion: our `config::expand::expand` against
`supervisor.options.expand` (Python's `str % dict`) from the pinned supervisor 4.3.0.

The probe's `expand` mode takes the dict as a list of [key, value] pairs because insertion order
is observable (`%s` prints the whole dict).
"""
import os
import random

import pytest

from supervisor.options import expand

SEED = int(os.environ.get("EXPAND_SEED", "20240511"))
CASES = int(os.environ.get("EXPAND_CASES", "6000"))
BATCH = 500


def py_expand(s, pairs, name):
    d = dict(pairs)
    try:
        return {"ok": expand(s, d, name)}
    except ValueError as exc:
        try:
            s % d
        except KeyError:
            kind = "UnknownName"
        except Exception:
            kind = "BadFormat"
        else:
            kind = "?"
        return {"error": str(exc), "kind": kind}


def rust_expand_many(probe, cases):
    out = []
    for i in range(0, len(cases), BATCH):
        chunk = cases[i:i + BATCH]
        reply = probe.call({
            "mode": "expand",
            "cases": [{"s": s, "expansions": [list(p) for p in pairs], "name": name}
                      for s, pairs, name in chunk],
        })
        out.extend(reply["results"])
    return out


def compare(probe, cases):
    """Every mismatch as (case, python, rust); cases are (s, pairs, name)."""
    got = rust_expand_many(probe, cases)
    mismatches = []
    for case, rust in zip(cases, got):
        py = py_expand(*case)
        if py != rust:
            mismatches.append((case, py, rust))
    return mismatches


def describe(mismatches, limit=10):
    lines = [f"{len(mismatches)} mismatches; first {min(limit, len(mismatches))}:"]
    for (s, pairs, name), py, rust in mismatches[:limit]:
        lines.append(f"  s={s!r} name={name!r} dict={dict(pairs)!r}\n"
                     f"    python={py!r}\n    rust  ={rust!r}")
    return "\n".join(lines)


SUPERVISOR_DICT = [
    ("ENV_HOME", "/home/u"), ("ENV_PATH", "/usr/bin:/bin"), ("group_name", "web"),
    ("host_node_name", "box"), ("here", "/etc/supervisor"), ("process_num", 3),
    ("numprocs", 4), ("program_name", "web"),
]


@pytest.mark.parametrize("s, expected", [
    ("%(ENV_HOME)s/x", "/home/u/x"),
    ("100%%", "100%"),
    ("%(process_num)02d", "03"),
    ("%(program_name)-6s|", "web   |"),
    ("%(process_num)x", "3"),
    ("%(numprocs)d%%", "4%"),
])
def test_deps_examples_ok(probe, s, expected):
    pairs = SUPERVISOR_DICT
    assert py_expand(s, pairs, "program:web.command") == {"ok": expected}
    assert rust_expand_many(probe, [(s, pairs, "program:web.command")]) == [{"ok": expected}]


@pytest.mark.parametrize("s, kind, fragment", [
    ("100%", "BadFormat", "is badly formatted: incomplete format"),
    ("%(missing)s", "UnknownName",
     "contains names ('missing') which cannot be expanded. Available names: ENV_HOME, ENV_PATH, "
     "group_name, here, host_node_name, numprocs, process_num, program_name"),
    ("%s", None, None),
])
def test_deps_examples_errors(probe, s, kind, fragment):
    case = (s, SUPERVISOR_DICT, "program:web.command")
    py = py_expand(*case)
    [rust] = rust_expand_many(probe, [case])
    assert rust == py
    if kind is None:
        assert py["ok"].startswith("{'ENV_HOME': '/home/u', ")
    else:
        assert py["kind"] == kind and fragment in py["error"]


EDGE_DICT = [
    ("a", "x"), ("n", 3), ("neg", -255), ("big", 2**62), ("s1", "\xe9"), ("h", 2**40),
    ("q", "it's \"q\""), ("e", ""), ("z", 0), ("min", -2**63), ("max", 2**63 - 1),
    ("k", 999500), ("t", 25), ("cp", 0x263A), ("a(b)c", "paren"), ("", "empty key"),
]

EDGE_FORMATS = [
    "%5%", "%%%", "%(a)s%%", "%-5%", "%(a)5%", "%(a)s%s", "%s%(a)s", "%s%s", "%q", "%(a)s%q",
    "%(n)*d", "%(n)*", "%*d", "%(a)*d", "%(h).*d", "%(n).*d", "%(n).*", "%(neg).*d", "%lld", "%l",
    "%ld", "%(n)ld", "%(n)hd", "%(n)Ld", "%(n)Lq", "%\x00", "%\x1f", "%\x7f", "%\xe9", "%(n)\xe9",
    "%(n)99999999999999999999d", "%(n).99999999999d", "%(n).2147483645d", "",
    "%.0e", "%(n).0e", "%(n)#.0e", "%(n)#.0f", "%(n)#g", "%(n)g", "%(big)g", "%(big)e",
    "%(big).30e", "%(big).30f", "%(max).17g", "%(min).20e", "%(min)x", "%(min)#o", "%(min)c",
    "%(n)#x", "%(neg)#08x", "%(neg)#.5X", "%(neg)#o", "%(neg)-+08d", "%(n)-05d", "%(n) d",
    "%(n)+s", "%(n) 5s", "%(n)05s", "%(a)05c", "%(s1)c", "%(a).0c", "%c", "%(neg)c", "%(a)r",
    "%(s1)a", "%a", "%r", "%s", "%10.20s|", "%(n)#5d", "%(n)#d", "%(", "%(a", "%(a)", "%(missing)",
    "%()s", "%(a(b)c)s", "%(a(b)c", "%(n)5", "%(n).", "%0", "%(n)0", "%(n)-", "%(n).5",
    "%(n)*.5d", "%(n)*.*d", "%d", "%x", "%e", "%(a)d", "%(a)x", "%(a)e", "%(a)i", "%(a)u",
    "%(a)o", "%(a)X", "%(a)E", "%(a)c", "%(e)c", "%(q)c", "%(cp)c", "%(cp)5c", "%(n)u", "%(n)i",
    "%(n)#X", "%(n).3s", "%(a).0s", "%(n).300f", "%(n)#.300g", "%(n).300e", "%(n)10.3e",
    "%(n)-10.3E|", "%(n)010.3e", "%(n)+010.3g", "%(neg)010.3G", "% 5d", "%(n)", "%(n)-*d",
    "%(n)*-d", "%(n)#*d", "%(t).0e", "%(t).0g", "%(k).3g", "%(k)#.3G", "%(z)#g", "%(z)e",
    "%(z)#.0e", "%(z)+.0f", "%(q)r", "%(q)-20a|", "%(q).3r", "%(n)1000000000000000d",
    "%(missing)s%q", "%q%(missing)s", "%(missing)*d", "%*%(missing)s", "%(h)*.*d", "%(n).*%",
]


def test_edge_corpus(probe):
    cases = [(s, EDGE_DICT, "section.key") for s in EDGE_FORMATS]
    mismatches = compare(probe, cases)
    assert not mismatches, describe(mismatches)


def test_insertion_order_and_replacement(probe):
    pairs = [("b", "1"), ("a", 2), ("b", "3"), ("\u4e2d", "\U0001F600"), ("c'", "\u200b\xa0")]
    cases = [(s, pairs, "n'ame") for s in ("%s", "%r", "%a", "%(x)s", "%-80.40s|")]
    mismatches = compare(probe, cases)
    assert not mismatches, describe(mismatches)


# ---------------------------------------------------------------------------------------------
# Seeded randomized differential test.

LITERAL_ALPHABET = (
    list("abcXYZ019 _-./:=,;") + ["'", '"', "\\", "(", ")", "\t", "\n", "*", "#", "+"]
    + ["\xe9", "\u4e2d", "\U0001F600", "\xa0", "\u200b", "\x7f", "\x00", "\u20ac"]
)
KEY_POOL = ["a", "b", "n", "num", "ENV_HOME", "process_num", "program_name", "x y", "\u043a\u043b",
            "it's", "", "a(b)", "(", "k%"]
FLAG_CHARS = "-+ #0"
VALID_CONV = "sradiuoxXeEfFgGc"
INVALID_CONV = ["q", "z", "%", "(", ")", "\xe9", "\x00", "k", "y", "w", "b", "n", "p", "\x1f", "~"]


def rand_literal(rng):
    return "".join(rng.choice(LITERAL_ALPHABET) for _ in range(rng.randint(1, 6)))


def rand_str_value(rng):
    r = rng.random()
    if r < 0.15:
        return ""
    if r < 0.35:
        return rng.choice(LITERAL_ALPHABET)  # one character, for %c
    return "".join(rng.choice(LITERAL_ALPHABET) for _ in range(rng.randint(2, 8)))


def rand_int_value(rng):
    r = rng.random()
    if r < 0.2:
        v = rng.randint(-10, 10)
    elif r < 0.4:
        v = rng.randint(-100000, 100000)
    elif r < 0.55:
        v = rng.randint(0, 0x10FFFF)
    elif r < 0.7:
        v = rng.choice([0, -1, 2**53, 2**53 + 1, -(2**63), 2**63 - 1, 10**18, 999999, 99950,
                        25, 35, 125, 2**31, -(2**31) - 1, 0x110000])
    elif r < 0.85:
        v = rng.randint(-(2**63), 2**63 - 1)
    else:
        v = rng.randint(-(10 ** rng.randint(1, 18)), 10 ** rng.randint(1, 18))
    # A lone surrogate cannot live in a Rust string (see the module docs); keep %c clear of them.
    if 0xD800 <= v <= 0xDFFF:
        v = 0xD7FF
    return v


def rand_dict(rng):
    pairs = []
    for _ in range(rng.randint(0, 6)):
        key = rng.choice(KEY_POOL)
        value = rand_str_value(rng) if rng.random() < 0.5 else rand_int_value(rng)
        pairs.append((key, value))
    return pairs


def compatible_conversions(value):
    """Conversions that succeed on `value`, so that long error-free strings get generated too."""
    if isinstance(value, int):
        return "sradiuoxXeEfFgG" + ("c" if 0 <= value < 0x110000 else "")
    return "sra" + ("c" if len(value) == 1 else "")


def rand_spec(rng, d, clean):
    keys = list(d)
    spec = "%"
    key = None
    if rng.random() < 0.8 or clean:
        if keys and (clean or rng.random() < 0.8):
            key = rng.choice(keys)
        else:
            key = rng.choice(KEY_POOL + ["missing", "a(b)c", "(x)"])
        spec += "(" + key + ")"
    spec += "".join(rng.choice(FLAG_CHARS) for _ in range(rng.choice([0, 0, 1, 1, 2, 3])))
    r = rng.random()
    if r < 0.4:
        spec += str(rng.randint(0, 25))
    elif r < 0.45 and not clean:
        spec += "*"
    r = rng.random()
    if r < 0.1:
        spec += "."
    elif r < 0.35:
        spec += "." + str(rng.randint(0, 20))
    elif r < 0.38:
        spec += "." + str(rng.randint(21, 120))
    elif r < 0.41 and not clean:
        spec += ".*"
    if rng.random() < 0.08:
        spec += rng.choice("hlL")
    if key in d and (clean or rng.random() < 0.6):
        spec += rng.choice(compatible_conversions(d[key]))
    elif rng.random() < 0.93:
        spec += rng.choice(VALID_CONV)
    else:
        spec += rng.choice(INVALID_CONV)
    return spec


def rand_format(rng, pairs):
    """A format string; about a third are "clean" (only specs that can succeed) so that long
    successful outputs are common, the rest mix in every kind of breakage."""
    d = dict(pairs)
    keys = list(d)
    clean = bool(keys) and rng.random() < 0.35
    parts = []
    for _ in range(rng.randint(1, 5)):
        r = rng.random()
        if r < 0.3:
            parts.append(rand_literal(rng))
        elif r < 0.4:
            parts.append("%%")
        elif r < 0.85 or clean:
            parts.append(rand_spec(rng, d, clean))
        elif r < 0.91:
            spec = rand_spec(rng, d, clean)
            parts.append(spec[:rng.randint(1, len(spec))])  # truncated spec
        elif r < 0.94:
            parts.append("%(" + rng.choice(keys + ["k"]))  # unterminated key
        else:
            parts.append("%" + rng.choice("srad"))  # bare spec: the whole dict
    s = "".join(parts)
    if not clean and rng.random() < 0.05:
        s += "%"  # stray % at the end
    return s


NAMES = ["program:web.command", "environment", "it's", "stdout_logfile", "x\u00e9"]


def test_randomized_differential(probe):
    rng = random.Random(SEED)
    cases = []
    for _ in range(CASES):
        pairs = rand_dict(rng)
        cases.append((rand_format(rng, pairs), pairs, rng.choice(NAMES)))
    mismatches = compare(probe, cases)
    outcomes = [py_expand(*c) for c in cases]
    ok = sum(1 for o in outcomes if "ok" in o)
    # Guard against a grammar that only ever exercises one path.
    assert ok > CASES // 5 and CASES - ok > CASES // 5, (ok, CASES)
    assert not mismatches, f"seed={SEED} cases={CASES}\n" + describe(mismatches)


def test_numeric_grid(probe):
    """Every numeric conversion over values at rounding and width boundaries; floats are where a
    port is most likely to drift (half-even ties, carries like 9.995 -> 10.0, `#` forms)."""
    values = [0, 1, -1, 5, 9, 10, 15, 25, 35, 95, 99, 125, 135, 995, 999, 1000, 99950, 999500,
              123456, 1234567, 2**31, 2**53 - 1, 2**53 + 1, 2**62, 2**63 - 1, -(2**63),
              10**15 + 5, 5 * 10**17, 45, -45, 250, -9999995]
    flag_sets = ["", "#", "0", "-", "+ ", "#0", "+08", "-#10"]
    precisions = [None, 0, 1, 2, 3, 6, 15, 16, 17, 25]
    cases = []
    for v in values:
        pairs = [("v", v)]
        for conv in "eEfFgGdiuoxX":
            for flags in flag_sets:
                for prec in precisions:
                    p = "" if prec is None else f".{prec}"
                    cases.append((f"[%(v){flags}{p}{conv}]", pairs, "grid"))
    assert len(cases) > 25000
    mismatches = compare(probe, cases)
    assert not mismatches, describe(mismatches)
