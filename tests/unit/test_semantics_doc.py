"""docs/semantics.md and the tests agree: every numbered rule names tests that exist, every test
named after a rule is listed under it, and every `§N` cited in code, tests or the README exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
DOC = ROOT / "docs" / "semantics.md"

RULE = re.compile(r"^\s*- \*\*§(\d+(?:\.\d+)*)\*\*")
HEADING = re.compile(r"^#")
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")
NAMED_AFTER_RULE = re.compile(r"^test_(?:s|rule_)(\d+(?:_\d+)*)(?=_[a-z]|$)")
CITATION = re.compile(r"§(\d+(?:\.\d+)*)")
TEST_DEF = re.compile(r"^\s*def (test_\w+)\(", re.MULTILINE)


def rules() -> dict[str, list[tuple[str, str]]]:
    """Rule number → the (file, test) pairs of its Tested by line(s)."""
    found: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = RULE.match(line)
        if match:
            current = match.group(1)
            assert current not in found, f"§{current} is numbered twice"
            found[current] = []
        elif HEADING.match(line):
            current = None
        if current is not None:
            found[current] += REFERENCE.findall(line)
    return found


def defined_tests() -> dict[str, set[str]]:
    """Test file (relative path) → the names of the test functions it defines."""
    return {str(path.relative_to(ROOT)): set(TEST_DEF.findall(path.read_text(encoding="utf-8")))
            for path in (ROOT / "tests").rglob("test_*.py")}


def known(number: str, numbers: set[str]) -> bool:
    """A rule, or a section or group that has rules under it (§12.4 holds §12.4.1 …)."""
    return number in numbers or any(n.startswith(number + ".") for n in numbers)


def test_every_rule_names_tests_that_exist():
    found, defined = rules(), defined_tests()
    assert len(found) > 150  # the parser still sees the rules
    for number, references in found.items():
        grouped = any(n.startswith(number + ".") for n in found)  # §2.3 is tested through §2.3.1 …
        assert references or grouped, f"§{number} names no test"
        for path, name in references:
            assert path in defined, f"§{number}: {path} does not exist"
            assert name in defined[path], f"§{number}: {path} has no test {name}"


def test_every_test_named_after_a_rule_is_listed_under_it():
    found, defined = rules(), defined_tests()
    listed = {(path, name, number) for number, refs in found.items() for path, name in refs}
    named = [(path, name, match.group(1).replace("_", ".")) for path, names in defined.items() for name in names
             if (match := NAMED_AFTER_RULE.match(name))]
    assert len(named) > 150
    for path, name, number in named:
        assert known(number, set(found)), f"{path}::{name} cites §{number}, which docs/semantics.md does not have"
        assert any((path, name) == (p, n) and (r == number or r.startswith(number + "."))
                   for p, n, r in listed), f"{path}::{name} is not listed under §{number}"


def test_every_section_cited_in_code_tests_and_readme_exists():
    numbers = set(rules())
    sources = [*ROOT.glob("engine/**/*.py"), *ROOT.glob("cli/*.py"), *ROOT.glob("projections/*.py"),
               *ROOT.glob("tests/**/*.py"), ROOT / "README.md"]
    cited = {(str(path.relative_to(ROOT)), number) for path in sources
             for number in CITATION.findall(path.read_text(encoding="utf-8"))}
    assert len(cited) > 30
    missing = sorted((path, number) for path, number in cited if not known(number, numbers))
    assert missing == []
