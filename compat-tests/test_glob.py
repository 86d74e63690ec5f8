"""Differential tests for `supervisor::config::glob::glob` against Python 3.11's
`glob.glob(pattern)` (what `[include] files=` uses), on a tree built to exercise dotfiles,
magic characters in names, symlinks, unicode and trailing slashes. Results are compared sorted,
as supervisor sorts them.

Set GLOB_SEED / GLOB_CASES to explore further.
"""
import glob
import os
import random

import pytest

SEED = int(os.environ.get("GLOB_SEED", "20240607"))
CASES = int(os.environ.get("GLOB_CASES", "1500"))

FILES = [
    "a.conf", "b.conf", "ab.conf", ".hidden.conf", "b.txt", "we[ird].conf", "star*.conf",
    "q?.conf", "sp ace.conf", "\xfcn\xef.conf", "a]b", "[", "]", "bra[ck", "-", "!x", "^", "\\",
    "a-z", "new\nline", "Z.CONF", ".a", "..b", "x&&y", "~t", "\u0130.conf",
    "sub/c.conf", "sub/.d.conf", "sub/deeper/e.conf", "sub/deeper/.f",
    ".hid/x.conf", ".hid/.y.conf",
    "dir.d/one.conf", "dir.d/two.ini",
    "s p/q r.conf",
]
DIRS = ["empty", "sub/deeper/deepest"]
LINKS = {"link_to_sub": "sub", "broken": "nowhere", "link_to_file": "a.conf"}

COMPONENTS = [
    "*", "*", "?", "??", "*.conf", "*.CONF", ".*", ".*.conf", "a*", "*b*", "[ab]*", "[!a]*",
    "[a-c]*", "[z-a]*", "[!z-a]*", "[]]", "[!]]*", "[[]", "[*]*", "*[?]*", "[!]", "[", "]",
    "bra[ck", "**", "***", "*/", "sub", "sub*", "s*", "sub/", ".hid", ".h*", "deeper", "d*",
    "e.conf", "nope", "", "sp ace.conf", "sp*", "\xfc*", "*\n*", "[\\]", "[-]", "[a-]*",
    "[!-]", "[^]", "[&&]*", "x&&y", "a]b", "[a]]b", "[!.]*", "?.conf", "q[?].conf", "we[[]*",
    "star[*].conf", "link*", "broken", "link_to_sub", "link_to_file", "empty", "dir.d",
    "*.d", "[d-d]ir.d", "[z-a!b]*", "[a--b]*", "[!-a]*", "[^a]*", "[\u0130]*", "~t", "s p",
    "*r.conf", ".", "..", "[.]*", "..*", "[a-z][a-z].conf", "[]-a]", "[!a-]*",
]


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("glob")
    for d in DIRS:
        (root / d).mkdir(parents=True, exist_ok=True)
    for f in FILES:
        path = root / f
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    for name, target in LINKS.items():
        (root / name).symlink_to(target)
    return str(root)


def random_patterns(rng, n):
    out = []
    for _ in range(n):
        parts = [rng.choice(COMPONENTS) for _ in range(rng.randint(1, 3))]
        sep = rng.choice(["/", "/", "/", "//"])
        p = sep.join(parts)
        if rng.random() < 0.1:
            p += "/"
        out.append(p)
    return out


def hand_patterns():
    return ["*", "*.conf", ".*.conf", "**/*.conf", "*/", "*/*", "*/*/", "sub/*", "sub/**",
            "sub//*", "sub/*/", "*/deeper/*", "*/deeper", "*/*/*", "we[ird].conf",
            "we[[]ird].conf", "star*.conf", "q?.conf", "[[]", "[]]", "a[]]b", "\\", "[\\]",
            "nope/*", "a.conf/", "a.conf/*", "link_to_sub/*", "link_to_file/*", "broken",
            "broken/", "broken*", "*/*.conf", ".hid/*", ".*/*", "*/.*", ".hid/.*", "s p/*",
            "sub/deeper/deepest/", "sub/deeper/deepest", "", "/", ".", "./*", "../*"]


def compare(probe, root, patterns, relative=False):
    mismatches = []
    cwd = os.getcwd()
    try:
        if relative:
            os.chdir(root)
        for pat in patterns:
            full = pat if relative else (root + "/" + pat if pat else root)
            want = sorted(glob.glob(full))
            request = {"mode": "datatype", "name": "glob", "value": full}
            if relative:
                request["cwd"] = root
            ours = sorted(probe.call(request)["ok"])
            if ours != want:
                mismatches.append((full, want, ours))
    finally:
        os.chdir(cwd)
    return mismatches


def describe(mismatches, total, limit=10):
    lines = [f"{len(mismatches)}/{total} mismatches; first {min(limit, len(mismatches))}:"]
    for pat, want, ours in mismatches[:limit]:
        lines.append(f"  pattern={pat!r}\n    python={want!r}\n    rust  ={ours!r}")
    return "\n".join(lines)


def test_hand_patterns_absolute(probe, tree):
    pats = hand_patterns()
    mismatches = compare(probe, tree, pats)
    assert not mismatches, describe(mismatches, len(pats))


def test_hand_patterns_relative(probe, tree):
    pats = hand_patterns()
    mismatches = compare(probe, tree, pats, relative=True)
    assert not mismatches, describe(mismatches, len(pats))


def test_random_patterns_absolute(probe, tree):
    pats = random_patterns(random.Random(f"{SEED}-abs"), CASES)
    mismatches = compare(probe, tree, pats)
    assert not mismatches, describe(mismatches, len(pats))


def test_random_patterns_relative(probe, tree):
    pats = random_patterns(random.Random(f"{SEED}-rel"), CASES // 3)
    mismatches = compare(probe, tree, pats, relative=True)
    assert not mismatches, describe(mismatches, len(pats))


@pytest.fixture(scope="module")
def class_tree(tmp_path_factory):
    """A flat directory of short names made of the characters `[...]` classes treat specially."""
    root = tmp_path_factory.mktemp("classes")
    rng = random.Random(f"{SEED}-class-names")
    chars = list("abz-!^]\\[&~|.x\xe9\n")
    names = set()
    while len(names) < 300:
        name = "".join(rng.choice(chars) for _ in range(rng.randint(1, 3)))
        if name not in (".", ".."):
            names.add(name)
    for name in names:
        (root / name).write_text("")
    return str(root)


def test_random_bracket_classes(probe, class_tree):
    """Character-level patterns heavy in `[`, `]`, `!`, `-`, `^` and backslashes, to pin down
    fnmatch.translate's class rewriting (empty ranges, `[!]`, `[z-a!b]` and the like)."""
    rng = random.Random(f"{SEED}-classes")
    chars = list("[]!-^\\az&*?.\xe9")
    pats = ["".join(rng.choice(chars) for _ in range(rng.randint(1, 7)))
            for _ in range(CASES)]
    mismatches = compare(probe, class_tree, pats)
    assert not mismatches, describe(mismatches, len(pats))


def test_matches_are_not_vacuous(probe, tree):
    """Guard against a test tree where everything trivially returns []."""
    got = probe.call({"mode": "datatype", "name": "glob", "value": tree + "/*.conf"})["ok"]
    assert len(got) >= 5


@pytest.mark.parametrize("s", ["abc", "a*", "a?", "a[", "]", "a/b", "**", ""])
def test_has_magic(probe, s):
    assert probe.call({"mode": "datatype", "name": "has_magic", "value": s}) == \
        {"ok": glob.has_magic(s)}
