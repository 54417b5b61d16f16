"""CONVENTIONS.md checks that a compiler does not make: banned functions, line length, and
the one-way module dependencies (base <- stix <- store <- access/intel <- fusion/compliance <-
service <- server <- cli)."""
import pathlib
import re

SRC = pathlib.Path(__file__).resolve().parents[2] / "src"
BANNED = re.compile(r"\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol)\s*\(")
LAYERS = ["base", "stix", "store", "access", "intel", "fusion", "compliance", "service", "server",
          "cli"]
# access and intel are siblings, as are fusion and compliance: neither may include the other.
RANK = {"base": 0, "stix": 1, "store": 2, "access": 3, "intel": 3, "fusion": 4,
        "compliance": 4, "service": 5, "server": 6, "cli": 7}


def sources():
    return sorted(p for p in SRC.rglob("*") if p.suffix in (".c", ".h"))


def strip_comments_and_strings(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r'"(\\.|[^"\\])*"', '""', text)


def test_no_banned_functions():
    hits = [f"{p.relative_to(SRC)}:{i}" for p in sources()
            for i, line in enumerate(strip_comments_and_strings(p.read_text()).splitlines(), 1)
            if BANNED.search(line)]
    assert not hits, hits


def test_lines_fit_in_100_columns():
    long = [f"{p.relative_to(SRC)}:{i}" for p in sources()
            for i, line in enumerate(p.read_text().splitlines(), 1) if len(line) > 100]
    assert not long, long


def test_dependencies_point_one_way():
    bad = []
    for p in sources():
        parts = p.relative_to(SRC).parts
        if len(parts) < 2 or parts[0] not in RANK:
            continue
        mine = RANK[parts[0]]
        for inc in re.findall(r'#include "([a-z]+)/', p.read_text()):
            if inc in RANK and inc != parts[0] and RANK[inc] >= mine:
                bad.append(f"{p.relative_to(SRC)} includes {inc}/")
    assert not bad, bad


def test_the_read_policy_is_called_not_reimplemented():
    """Only src/access/policy.c decides on TLP levels; read paths call policy_can_read or
    pass policy_visible to the store."""
    offenders = []
    for p in sources():
        rel = str(p.relative_to(SRC))
        if rel.startswith("access/") or rel.startswith("store/"):
            continue
        code = strip_comments_and_strings(p.read_text())
        if re.search(r"acl\.tlp\s*(==|!=|<|>)|->tlp\s*(==|!=|<|>)", code):
            offenders.append(rel)
    assert not offenders, offenders
