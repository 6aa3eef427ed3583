"""The documentation's links resolve, README stays a front page, and its quick-start commands parse."""
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def doc_files():
    return ([ROOT / "README.md"] + sorted((ROOT / "docs").glob("**/*.md"))
            + sorted((ROOT / "models").glob("*/README.md")))


def without_code(text):
    """The text outside fenced code blocks and inline code spans."""
    kept, fence = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fence = not fence
            continue
        if not fence:
            kept.append(re.sub(r"`[^`]*`", "", line))
    return "\n".join(kept)


def github_anchor(heading):
    """GitHub's rule: lowercase, punctuation other than '-' and '_' dropped, spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path):
    found, fence = set(), False
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            fence = not fence
        match = re.match(r"#{1,6} (.*)", line)
        if match and not fence:
            found.add(github_anchor(match.group(1)))
    return found


def links():
    for path in doc_files():
        for target in LINK.findall(without_code(path.read_text())):
            if not re.match(r"[a-z]+:", target):
                yield path, target


@pytest.mark.parametrize("path,target", list(links()),
                         ids=lambda v: str(v.relative_to(ROOT)) if isinstance(v, Path) else v)
def test_relative_link_resolves(path, target):
    file_part, _, anchor = target.partition("#")
    linked = (path.parent / file_part).resolve() if file_part else path
    assert linked.exists(), f"{path.relative_to(ROOT)} links to missing {file_part}"
    if anchor:
        assert linked.is_file() and anchor in anchors(linked), (
            f"{path.relative_to(ROOT)} links to #{anchor}, no such heading in {file_part or path.name}")


def test_there_are_links_to_check():
    assert len(list(links())) > 20


def test_github_anchor_rule():
    assert github_anchor("Implementation notes (where the paper is silent)") == \
        "implementation-notes-where-the-paper-is-silent"
    assert github_anchor("Why s_rec stays under the floors here: a small training set, memorised") == \
        "why-s_rec-stays-under-the-floors-here-a-small-training-set-memorised"


def test_readme_is_a_front_page():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 260


def quick_start_commands():
    text = (ROOT / "README.md").read_text()
    section = re.search(r"^## Quick start\n(.*?)^## ", text, re.S | re.M).group(1)
    commands = []
    for block in re.findall(r"```[a-z]*\n(.*?)```", section, re.S):
        for line in block.splitlines():
            for part in line.split("&&"):
                words = shlex.split(part, comments=True)
                for i, word in enumerate(words):
                    if word == "main.py" and i > 0 and words[i - 1].endswith("python"):
                        commands.append(words[i + 1:])
    return commands


def test_quick_start_commands_parse():
    import main

    commands = quick_start_commands()
    assert commands, "no main.py command found in README's quick start"
    for args in commands:
        main.parse_arguments(args)


# A commit hash: 7 to 40 lowercase hex characters with at least one digit and one letter, as a whole
# word. Not after '#', so that an 8-digit hex colour (#a1b2c3d4) passes; a sha256 (64 characters) has
# no word boundary at 40 and passes too.
COMMIT_HASH = re.compile(r"(?<!#)\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,40}\b")
ISO_DATE = re.compile(r"\b20\d\d-\d\d-\d\d\b")


def history_free_files():
    """README.md, docs/ outside docs/findings/ (a record of studies, dated), models/*/README.md."""
    docs = ROOT / "docs"
    return ([ROOT / "README.md"]
            + sorted(p for p in docs.rglob("*.md") if p.relative_to(docs).parts[0] != "findings")
            + sorted((ROOT / "models").glob("*/README.md")))


def history_in(text):
    """(line number, what, token) for each commit-hash-like token and ISO date in text."""
    for number, line in enumerate(text.splitlines(), 1):
        for pattern, what in ((COMMIT_HASH, "commit hash"), (ISO_DATE, "date")):
            for match in pattern.finditer(line):
                yield number, what, match.group()


def test_history_check_catches_hashes_and_dates_only():
    found = {token for _, _, token in history_in(
        "from a fresh clone of f5daaff (b8473a2, 10 min 16 s) on 2026-12-03, 887e10b's code")}
    assert found == {"f5daaff", "b8473a2", "2026-12-03", "887e10b"}
    legitimate = ("#a1b2c3d4 and #fff, 0.9571 [0.9502, 0.9633], 1e-5, 2e-6, deadbeef, 1234567, "
                  "...-w64-i10000-b64-seed0, 256x256, keras-team/keras#20329, 0x1f2e3d4c, "
                  "sha256:" + "0123456789abcdef" * 4)
    assert list(history_in(legitimate)) == []


def test_docs_carry_no_commit_hashes_or_dates():
    """The docs state what is measured now, not when or at which commit (docs/findings/ keeps its record)."""
    assert len(history_free_files()) >= 9
    found = [f"{path.relative_to(ROOT)}:{number}: {what} {token}"
             for path in history_free_files()
             for number, what, token in history_in(path.read_text())]
    assert not found, "history in the docs (write what is measured, not when or at which commit):\n" + \
        "\n".join(found)
