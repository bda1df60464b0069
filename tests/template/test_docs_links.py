"""The README and docs/ send a reader only to what the repository holds: every relative link names an
existing file or folder, and a #fragment names a heading of the page it points at (GitHub's anchors)."""

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from local_stack.cloudformation.template import PROJECT_ROOT

PAGES = sorted([PROJECT_ROOT / "README.md", *(PROJECT_ROOT / "docs").rglob("*.md")])

_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+).+?\1", re.DOTALL)
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def prose(markdown: str) -> str:
    """The page without its code blocks and code spans, where brackets and # are not markup."""
    return _CODE_SPAN.sub("", _FENCE.sub("", markdown))


def anchors(markdown: str) -> set[str]:
    """GitHub's anchor of each heading: lower case, punctuation dropped, spaces as hyphens, repeats numbered."""
    seen: dict[str, int] = {}
    found = set()
    for heading in _HEADING.findall(_FENCE.sub("", markdown)):
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading: its text
        slug = re.sub(r"[^\w\- ]", "", text.replace("`", "").lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def relative_links(page: Path) -> list[str]:
    return [
        target
        for target in _LINK.findall(prose(page.read_text(encoding="utf-8")))
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE)  # http:, https:, mailto:
    ]


def heading_of(page: Path, fragment: str) -> bool:
    return unquote(fragment).lower() in anchors(page.read_text(encoding="utf-8"))


def broken_links(page: Path, root: Path = PROJECT_ROOT) -> list[str]:
    broken = []
    for target in relative_links(page):
        path_part, _, fragment = target.partition("#")
        destination = (page.parent / unquote(path_part)).resolve() if path_part else page
        if not destination.is_relative_to(root) or not destination.exists():
            broken.append(f"{target}: no such file in the repository")
        elif fragment and destination.suffix == ".md" and not heading_of(destination, fragment):
            broken.append(f"{target}: no heading #{fragment} in {destination.relative_to(root)}")
    return broken


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(PROJECT_ROOT)))
def test_every_relative_link_of_the_page_points_at_a_file_and_heading_that_exist(page):
    assert broken_links(page) == []


def test_the_readme_links_every_page_of_docs_and_stays_short():
    readme = PROJECT_ROOT / "README.md"
    linked = {(readme.parent / target.partition("#")[0]).resolve() for target in relative_links(readme)}
    top_pages = {page for page in (PROJECT_ROOT / "docs").glob("*.md")}
    assert sorted(str(page.relative_to(PROJECT_ROOT)) for page in top_pages - linked) == []
    assert len(readme.read_text(encoding="utf-8").splitlines()) <= 250


def test_the_checker_finds_a_missing_file_a_missing_heading_and_a_link_out_of_the_repository(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "architecture.md").write_text("# Architecture\n\n## The flow\n", encoding="utf-8")
    probe = tmp_path / "docs" / "probe.md"
    links = "[gone](missing.md) [bad](architecture.md#no-such-heading) [out](../../etc/passwd)"
    fine = "[ok](architecture.md#the-flow) [folder](./) [web](https://example.com/x.md) `[span](nowhere.md)`"
    probe.write_text(f"# Probe\n\n{links} {fine}\n\n```\n[in code](missing-too.md)\n```\n", encoding="utf-8")

    assert broken_links(probe, tmp_path) == [
        "missing.md: no such file in the repository",
        "architecture.md#no-such-heading: no heading #no-such-heading in docs/architecture.md",
        "../../etc/passwd: no such file in the repository",
    ]


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("## Quotes under `make dev`", "quotes-under-make-dev"),
        ("## Bulk imports: `make import`", "bulk-imports-make-import"),
        ("### Least privilege, proven both ways", "least-privilege-proven-both-ways"),
        ("## Cost (2026-11-29)", "cost-2026-11-29"),
    ],
)
def test_anchors_are_githubs(heading, anchor):
    assert anchor in anchors(f"{heading}\n")
