"""Differential tests for the datatype converters: `supervisor::config::datatypes` (through the
probe's `datatype` mode) against `supervisor.datatypes` of the pinned supervisor 4.3.0.

Every case compares our `{"ok": value}` / `{"error": text}` with what Python returns or the text
of the `ValueError` it raises. The only expected differences are the documented ones, where
Python hands back something our typed API cannot hold (see `expected`).

Set DATATYPES_SEED / DATATYPES_CASES to explore further.
"""
import grp
import os
import pwd
import random

import pytest

from supervisor import datatypes as D
from supervisor.options import normalize_path

SEED = int(os.environ.get("DATATYPES_SEED", "20240607"))
CASES = int(os.environ.get("DATATYPES_CASES", "150"))  # per converter

I64 = (-(2 ** 63), 2 ** 63 - 1)


def _shape(name, v):
    """Python's result in the probe's JSON shape."""
    if name == "dict_of_key_value_pairs":
        return [[k, x] for k, x in v.items()]
    if name == "logfile_name":
        if v is None:
            return ["none"]
        if v is D.Automatic:
            return ["auto"]
        if v is D.Syslog:
            return ["syslog"]
        return ["path", v]
    if name == "auto_restart":
        return {False: "never", D.RestartWhenExitUnexpected: "unexpected",
                D.RestartUnconditionally: "always"}[v]
    if name in ("inet_address", "colon_separated_user_group"):
        return list(v)
    if name == "profile_options":
        return [v[0], v[1]]
    if name == "signal_number":
        return int(v)
    return v


FUNCS = {
    "process_or_group_name": D.process_or_group_name,
    "integer": D.integer,
    "boolean": D.boolean,
    "list_of_strings": D.list_of_strings,
    "list_of_exitcodes": D.list_of_exitcodes,
    "dict_of_key_value_pairs": D.dict_of_key_value_pairs,
    "logfile_name": D.logfile_name,
    "port_number": D.port_number,
    "inet_address": D.inet_address,
    "colon_separated_user_group": D.colon_separated_user_group,
    "name_to_uid": D.name_to_uid,
    "name_to_gid": D.name_to_gid,
    "octal_type": D.octal_type,
    "expanduser": os.path.expanduser,
    "existing_directory": D.existing_directory,
    "existing_dirpath": D.existing_dirpath,
    "normalize_path": normalize_path,
    "logging_level": D.logging_level,
    "byte_size": D.byte_size,
    "url": D.url,
    "signal_number": D.signal_number,
    "auto_restart": D.auto_restart,
    "profile_options": D.profile_options,
}


def python(name, value):
    try:
        v = FUNCS[name](value)
    except ValueError as exc:
        return {"error": str(exc)}
    except OverflowError as exc:
        return {"overflow": str(exc)}
    return {"ok": _shape(name, v)}


def expected(name, value):
    """What we must answer: Python's answer, except where our typed API documents a refusal."""
    py = python(name, value)
    out_of_range = {"error": f"value {value!r} is out of range (supervisor-rs integers are "
                             f"64-bit: -9223372036854775808 to 9223372036854775807)"}
    if "overflow" in py:
        # grp.getgrgid raises OverflowError for ids below -1 or beyond 32 bits.
        assert name == "name_to_gid", (name, value, py)
        return {"error": f"Invalid group id {value}"}
    if "ok" not in py:
        return py
    v = py["ok"]
    if name in ("integer", "byte_size", "octal_type") and not I64[0] <= v <= I64[1]:
        return out_of_range
    if name == "logging_level" and not isinstance(v, int):
        # getattr() on the levels class finds its dunder attributes too.
        return {"error": f"bad logging level name {value!r}"}
    return py


def compare(probe, name, values):
    mismatches = []
    for value in values:
        ours = probe.call({"mode": "datatype", "name": name, "value": value})
        want = expected(name, value)
        if ours != want:
            mismatches.append((value, want, ours))
    return mismatches


def describe(name, mismatches, total, limit=12):
    lines = [f"{name}: {len(mismatches)}/{total} mismatches; first {min(limit, len(mismatches))}:"]
    for value, want, ours in mismatches[:limit]:
        lines.append(f"  value={value!r}\n    python={want!r}\n    rust  ={ours!r}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Inputs

WS = [" ", "\t", "\n", "\x0b", "\x0c", "\r", "\x1c", "\x1f", "\x85", "\xa0", "\u2000", "\u3000"]
UNI_DIGITS = ["\u0663", "\uff10", "\U0001d7d7", "\u07c0", "\u0967", "\u1946"]
ODD = ["\xe9", "\xdf", "\u0130", "\u0131", "\u017f", "\u03a3", "\u212a", "\u2100", "\x00", "\x7f",
       "\u200b", "\ufb05", "\u01c5"]


def rand_text(rng, atoms, max_len=8):
    return "".join(rng.choice(atoms) for _ in range(rng.randint(0, max_len)))


def rand_case(rng, word):
    return "".join(c.upper() if rng.random() < 0.5 else c for c in word)


def int_atoms():
    return (list("0123456789") * 3 + ["+", "-", "_", "__", "0x", "o", "e", "."] + WS
            + UNI_DIGITS + ODD)


def gen_integer(rng):
    out = ["0", "-0", "+0", " 1 ", "1_000", "1__0", "_1", "1_", "- 1", "", " ", "+", "-",
           "\u3000\u0661\u0662\xa0", "\x1c1", "1\x1c", "1\x00", "\x0b5\x0c", "0x10", "1e3",
           "9223372036854775807", "9223372036854775808", "-9223372036854775808",
           "-9223372036854775809", "1" * 4300, "1" * 4301, "1_" * 4300 + "1", "1" * 5000 + "x",
           "x" * 300, "'" * 250, "\xe9" * 150, "0" * 4301, "1" * 4301 + "\xe9", "1" * 4301 + "_"]
    out += [str(rng.randint(-2 ** 70, 2 ** 70)) for _ in range(CASES // 5)]
    out += [rand_text(rng, int_atoms()) for _ in range(CASES)]
    return out


def gen_words(rng, words, noise):
    out = list(words) + [w.upper() for w in words] + [" " + words[0], words[0] + " ", "", " "]
    for _ in range(CASES):
        w = rand_case(rng, rng.choice(words))
        r = rng.random()
        if r < 0.3:
            w = rng.choice(noise) + w
        elif r < 0.5:
            w = w + rng.choice(noise)
        elif r < 0.6:
            w = w.replace("i", "\u0130").replace("I", "\u0131")
        out.append(w)
    return out


def gen_list(rng, atoms):
    return [rand_text(rng, atoms, 12) for _ in range(CASES)] + ["", " ", ",", " , ", "a,,b"]


def gen_exitcodes(rng):
    out = ["", "0", "0,1,2", "0, 2 ,255", "256", "-1", "0,", ",0", " ", "1_0", "\u0661",
           "0,256", "1" * 4400]
    for _ in range(CASES):
        items = []
        for _ in range(rng.randint(1, 4)):
            r = rng.random()
            if r < 0.6:
                items.append(rng.choice(["", " ", "+"]) + str(rng.randint(-3, 300))
                             + rng.choice(["", " ", "\t"]))
            else:
                items.append(rand_text(rng, int_atoms(), 4))
        out.append(",".join(items))
    return out


KV_ATOMS = (["A", "B", "key", "val", "1", "=", "=", ",", ",", " ", "'", '"', "#", "\n", "\xe9",
             "/", ".", "(", ")", ":", "+", "-", "\\", "_", "\t", ";", "$", "%(x)s"])


def gen_kv(rng):
    out = ["A=1,B=2", "A='1',B=\"x, y\"", "A=1,B", "A='1", "A=1 B=2", "A=1 B==x", "A=caf\xe9",
           "'k'=v", "A=b'c", "A=b#x\nc", "# c", "", "A=1,A=2", "A=\"1\"'2'", "A=''", "==="]
    for _ in range(CASES * 2):
        if rng.random() < 0.5:
            pairs = []
            for _ in range(rng.randint(1, 3)):
                k = rand_text(rng, ["A", "B", "K_1", "x.y"], 2) or "A"
                v = rand_text(rng, KV_ATOMS, 5)
                if rng.random() < 0.3:
                    q = rng.choice("'\"")
                    v = q + v.replace(q, "") + q
                pairs.append(k + "=" + v)
            out.append(rng.choice([",", ", ", " ,"]).join(pairs))
        else:
            out.append(rand_text(rng, KV_ATOMS, 12))
    return out


def existing_paths(tmp):
    return [tmp, tmp + "/", tmp + "/sub", tmp + "/file", tmp + "/file/x", tmp + "/nope",
            tmp + "/nope/x", tmp + "/sub/x.log", tmp + "/link", tmp + "/link/x"]


def gen_paths(rng, tmp):
    atoms = ["/", "/", "a", "sub", "file", "nope", "..", ".", "~", "~root", "~nobody", "x.log",
             "//", "\x00", " ", "\xe9", "link"]
    out = existing_paths(tmp) + ["", "/", "~", "~/", "~root", "~root/", "~root/x", "~nobody/x",
                                 "~no_such_user/x", "~a\x00b/x", "x", "rel/x", "/tmp", "/tmp/",
                                 "//tmp", "~/x/../y", "a\x00b", "/tmp/\x00"]
    for _ in range(CASES):
        p = rand_text(rng, atoms, 6)
        if rng.random() < 0.5:
            p = rng.choice(existing_paths(tmp)) + p
        out.append(p)
    return out


def gen_port(rng):
    out = ["0", "1", "65535", "65536", "-1", "-0", "99999999999999999999",
           "-99999999999999999999", "0099999999999999999999", "", "abc", " 80 ", "8_0",
           "1" * 4301]
    out += [str(rng.randint(-70000, 140000)) for _ in range(CASES // 2)]
    out += [rand_text(rng, int_atoms(), 6) for _ in range(CASES // 2)]
    return out


def gen_inet(rng):
    hosts = ["", "*", "localhost", "LocalHost", "127.0.0.1", "::1", "[::1]", "H\u0130", "\u03a3A",
             "a:b", " "]
    ports = gen_port(rng)[:40] + [""]
    out = ["abc", "0", "80", ":80", "*:80", "host:", "host:abc", "::1:80", ":", "", "1" * 4301]
    for _ in range(CASES):
        if rng.random() < 0.7:
            out.append(rng.choice(hosts) + ":" + rng.choice(ports))
        else:
            out.append(rng.choice(ports))
    return out


def real_ids():
    users = [p.pw_name for p in pwd.getpwall()]
    groups = [g.gr_name for g in grp.getgrall()]
    uids = sorted({p.pw_uid for p in pwd.getpwall()})
    gids = sorted({g.gr_gid for g in grp.getgrall()})
    return users, groups, uids, gids


def gen_ids(rng):
    users, groups, uids, gids = real_ids()
    atoms = (users + groups + [str(i) for i in uids + gids]
             + ["-1", "-2", "4294967295", "4294967296", "99999999999999999999", "2", "1000",
                "12345", "nosuchname", "", " ", "0 ", " root", "ROOT", "r\x00oot", "\u0660",
                "+0", "1_0", "root:", ":root", "1" * 4301])
    out = list(atoms)
    out += [rng.choice(atoms) + ":" + rng.choice(atoms) for _ in range(CASES)]
    out += [rand_text(rng, list("0123456789") + ["-", " ", "_", "r", "o", "t"], 5)
            for _ in range(CASES // 2)]
    return out


def gen_octal(rng):
    atoms = list("01234567") * 3 + ["8", "9", "o", "O", "0o", "_", "__", "+", "-", " ", "\t",
                                    "\u0667", "\u0668", "x", "\x00"]
    out = ["022", "0o22", "0O22", "22", "0o_7", "0o__7", "0o", "-22", "-0", "8", "", " 0o7 ",
           "37777777777", "40000000000", "0_7", "0_o7", "7" * 5000]
    out += [rand_text(rng, atoms, 7) for _ in range(CASES)]
    return out


def gen_byte_size(rng):
    suffixes = ["", "kb", "KB", "Kb", "mB", "gb", "GB", "b", "k", "xb", "\u0130b", "kb ", " kb",
                "k b", "tb"]
    nums = ["0", "1", "10", "-1", " 2 ", "1_0", "\u0663", "", "abc", "9999999999",
            "9223372036854775807", "8589934592", "8589934591", "+5"]
    out = ["10MB", "10XB", "abcKB", "kb", "", "b", "\u0130"]
    for _ in range(CASES):
        if rng.random() < 0.7:
            out.append(rng.choice(nums) + rng.choice(suffixes))
        else:
            out.append(rand_text(rng, int_atoms() + ["k", "m", "g", "b", "K", "B"], 6))
    return out


def gen_url(rng):
    schemes = ["http", "HTTP", "https", "unix", "foo", "f+o-o.1", "1http", "", "ht tp", "h\xe9",
               "tel", "sip"]
    netlocs = ["", "localhost", "localhost:9001", "[::1]", "[::1]:80", "[fe80::1%eth0]",
               "[1.2.3.4]", "[v1f.x]", "[vz.1]", "[v1.]", "[x]", "[::1", "::1]", "a]b[c",
               "u@h", "\xe9", "a\u2100b", "a\uff0fb", "\uff20", "[::ffff:1.2.3.4]", "[]",
               "[1:2:3:4:5:6:7:8]", "[1::2::3]", "[::1%]"]
    paths = ["", "/", "/path", ";x", "/a;b", "a;b/c", "?q", "#f", "/p?q#f", "x", ";", "/;"]
    out = ["http://localhost:9001", "unix:///tmp/s.sock", "foo", "http:", "http:;x", "foo:;x",
           " \x01http://x", "\thttp://x", "ht\ntp://x", "http://[::1", "", ":", "//x", "a:"]
    for _ in range(CASES * 2):
        lead = rng.choice(["", "", " ", "\x01", "\t"])
        s = lead + rng.choice(schemes) + rng.choice([":", ":", "", "::"])
        if rng.random() < 0.7:
            s += "//" + rng.choice(netlocs)
        s += rng.choice(paths)
        if rng.random() < 0.1:
            s = s.replace("/", "\n/", 1)
        out.append(s)
    return out


SIGNAL_NAMES = ["TERM", "HUP", "INT", "QUIT", "KILL", "USR1", "USR2", "CHLD", "CLD", "RTMIN",
                "RTMAX", "_DFL", "_IGN", "_BLOCK", "_UNBLOCK", "_SETMASK", "IOT", "POLL",
                "STKFLT", "FOO", "", "NALS"]


def gen_signal(rng):
    out = ["term", " SigKill ", "s\u0131gterm", "\u017figterm", "\ufb05op", "_dfl", "rtmax", "9",
           "35", "32", "0", "-1", "64", "65", "99999999999999999999999", "", " ", "SIG",
           "sig_dfl", "SIGNALS", "1" * 4301, "\u0669"]
    for _ in range(CASES):
        r = rng.random()
        if r < 0.5:
            w = rand_case(rng, rng.choice(["", "SIG", "sig"]) + rng.choice(SIGNAL_NAMES))
            w = rng.choice(["", " ", "\t", "\u3000", "\x1c"]) + w + rng.choice(["", " ", "\n"])
        elif r < 0.8:
            w = rng.choice(["", " "]) + str(rng.randint(-3, 70)) + rng.choice(["", " ", "_0"])
        else:
            w = rand_text(rng, list("SIGTERMsigterm_ 019") + ODD, 6)
        out.append(w)
    return out


def gen_names(rng):
    atoms = ["a", "b", " ", ":", "/", "\t", "\u3000", "\x1c", "\xe9", "-", "_", "%"]
    return ["web", " web ", "a b", "a:b/c", " a b", "", " ", "a/b"] + \
        [rand_text(rng, atoms, 6) for _ in range(CASES)]


def gen_gid_for_uid():
    uids = sorted({p.pw_uid for p in pwd.getpwall()})
    return uids + [2, 12345, 4294967294, 4294967295, 65533]


# ---------------------------------------------------------------------------------------------
# Tests

@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dt")
    (tmp / "sub").mkdir()
    (tmp / "file").write_text("")
    (tmp / "link").symlink_to(tmp / "sub")
    return str(tmp)


GENERATORS = {
    "integer": gen_integer,
    "boolean": lambda rng: gen_words(rng, ["yes", "true", "on", "1", "no", "false", "off", "0"],
                                     [" ", "x", "\t", "\u0130"]),
    "list_of_strings": lambda rng: gen_list(rng, ["a", "b", ",", " ", "\t", "\u3000", "\x1c"]),
    "list_of_exitcodes": gen_exitcodes,
    "dict_of_key_value_pairs": gen_kv,
    "port_number": gen_port,
    "inet_address": gen_inet,
    "colon_separated_user_group": gen_ids,
    "name_to_uid": gen_ids,
    "name_to_gid": gen_ids,
    "octal_type": gen_octal,
    "logging_level": lambda rng: gen_words(
        rng, ["critical", "error", "warn", "info", "debug", "trace", "blather", "warning",
              "__module__", "__doc__", "__dict__", "__class__", "__qualname__", "__init__"],
        [" ", "x", "_"]),
    "byte_size": gen_byte_size,
    "url": gen_url,
    "signal_number": gen_signal,
    "auto_restart": lambda rng: gen_words(
        rng, ["yes", "true", "on", "1", "no", "false", "off", "0", "unexpected", "sometimes"],
        [" ", "x", "\u0130"]),
    "process_or_group_name": gen_names,
    "profile_options": lambda rng: gen_list(
        rng, ["cumulative", "CALLERS", "callers", "Time", ",", " ", "\u0130"]),
}


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_differential(probe, name):
    rng = random.Random(f"{SEED}-{name}")
    values = GENERATORS[name](rng)
    mismatches = compare(probe, name, values)
    assert not mismatches, describe(name, mismatches, len(values))


@pytest.mark.parametrize("name", ["existing_directory", "existing_dirpath", "logfile_name",
                                  "expanduser", "normalize_path"])
def test_paths_differential(probe, tree, name):
    rng = random.Random(f"{SEED}-{name}")
    values = gen_paths(rng, tree)
    if name == "logfile_name":
        values += ["none", "NONE", "off", "Off", "auto", "AUTO", "syslog", "SysLog", "none ",
                   "\u0130none", "n\u0131ne"]
    mismatches = compare(probe, name, values)
    assert not mismatches, describe(name, mismatches, len(values))


def test_normalize_path_relative_to_cwd(probe, tree):
    values = ["x", "a/../b", "../x", ".", "", "sub/./../file", "~", "~/.."]
    mismatches = []
    cwd = os.getcwd()
    try:
        os.chdir(tree + "/sub")
        for value in values:
            ours = probe.call({"mode": "datatype", "name": "normalize_path", "value": value,
                               "cwd": tree + "/sub"})
            want = {"ok": normalize_path(value)}
            if ours != want:
                mismatches.append((value, want, ours))
    finally:
        os.chdir(cwd)
    assert not mismatches, describe("normalize_path", mismatches, len(values))


def test_gid_for_uid(probe):
    for uid in gen_gid_for_uid():
        try:
            want = D.gid_for_uid(uid)
        except KeyError:
            want = None
        assert probe.call({"mode": "datatype", "name": "gid_for_uid", "value": uid}) == \
            {"ok": want}, uid


@pytest.mark.parametrize("name, value, want", [
    ("boolean", "maybe", {"error": "not a valid boolean value: 'maybe'"}),
    ("integer", "x", {"error": "invalid literal for int() with base 10: 'x'"}),
    ("byte_size", "10xb", {"error": "invalid literal for int() with base 10: '10xb'"}),
    ("octal_type", "8", {"error": "8 can not be converted to an octal type"}),
    ("signal_number", "FOO", {"error": "value 'FOO' is not a valid signal name"}),
    ("signal_number", "99", {"error": "value '99' is not a valid signal number"}),
    ("list_of_exitcodes", "0,256", {"error": "not a valid list of exit codes: '0,256'"}),
    ("dict_of_key_value_pairs", "A=1,B",
     {"error": "Unexpected end of key/value pairs in value 'A=1,B'"}),
    ("process_or_group_name", "a b", {"error": "Invalid name: 'a b' because of character: ' '"}),
    ("logging_level", "verbose", {"error": "bad logging level name 'verbose'"}),
    ("auto_restart", "sometimes", {"error": "invalid 'autorestart' value 'sometimes'"}),
    ("port_number", "70000", {"error": "70000 is above upper bound (65535)"}),
    ("port_number", "0", {"error": "0 is below lower bound (1)"}),
    ("inet_address", "abc", {"error": "not a valid port number: 'abc' "}),
    ("inet_address", "x:", {"error": "no port number specified in ''"}),
    ("url", "foo", {"error": "value 'foo' is not a URL"}),
    ("name_to_uid", "nosuchuser", {"error": "Invalid user name nosuchuser"}),
    ("name_to_uid", "12345", {"error": "Invalid user id 12345"}),
    ("colon_separated_user_group", "root:nosuch",
     {"error": "Invalid user:group definition root:nosuch"}),
    ("existing_directory", "/no/such", {"error": "/no/such is not an existing directory"}),
    ("existing_dirpath", "/no/such/x",
     {"error": "The directory named as part of the path /no/such/x does not exist"}),
])
def test_surface_error_texts(probe, name, value, want):
    """The SURFACE.md §2.2 texts, checked against both sides."""
    assert python(name, value) == want
    assert probe.call({"mode": "datatype", "name": name, "value": value}) == want


def test_documented_divergences(probe):
    """Where Python returns what our types cannot hold, we refuse with our own message."""
    big = "9" * 30
    assert probe.call({"mode": "datatype", "name": "integer", "value": big})["error"] == (
        f"value '{big}' is out of range (supervisor-rs integers are 64-bit: "
        "-9223372036854775808 to 9223372036854775807)")
    assert probe.call({"mode": "datatype", "name": "octal_type", "value": "-22"}) == {"ok": -18}
    assert "out of range" in probe.call(
        {"mode": "datatype", "name": "octal_type", "value": "7" * 30})["error"]
    assert python("name_to_gid", "-2") == {"overflow": "gid is less than minimum"}
    assert probe.call({"mode": "datatype", "name": "name_to_gid", "value": "-2"}) == {
        "error": "Invalid group id -2"}
    assert python("logging_level", "__module__") == {"ok": "supervisor.loggers"}
    assert probe.call({"mode": "datatype", "name": "logging_level", "value": "__module__"}) == {
        "error": "bad logging level name '__module__'"}
