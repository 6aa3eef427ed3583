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
