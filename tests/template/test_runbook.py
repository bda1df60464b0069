"""Every alarm has a runbook entry: its AlarmDescription names `docs/operations.md#<anchor>`, the
anchor is a heading of that page (as GitHub makes anchors of headings), and the entry names the
alarm, so that whoever is paged finds what it means, what to check and how to replay."""

from __future__ import annotations

import re
from collections import Counter

from local_stack.cloudformation.template import PROJECT_ROOT

RUNBOOK = "docs/operations.md"
LINK = re.compile(rf"Runbook: {re.escape(RUNBOOK)}#([a-z0-9_-]+)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: its text (no markup) lowercased, punctuation dropped but
    hyphens and underscores, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link shows its text
    text = re.sub(r"[`*]", "", text)
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def entries(markdown: str) -> dict[str, str]:
    """Each heading's anchor and its section (up to the next heading of its level or higher);
    a repeated anchor gets -1, -2... as on GitHub. Headings inside code blocks are not headings."""
    found: dict[str, str] = {}
    seen: Counter[str] = Counter()
    open_sections: list[tuple[int, str]] = []
    fenced = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        heading = None if fenced else HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            base = github_anchor(heading.group(2))
            anchor = f"{base}-{seen[base]}" if seen[base] else base
            seen[base] += 1
            open_sections = [(lvl, name) for lvl, name in open_sections if lvl < level] + [(level, anchor)]
            found[anchor] = ""
        for _, name in open_sections:
            found[name] += line + "\n"
    return found


def description(properties: dict) -> str:
    text = properties.get("AlarmDescription", "")
    return str(text.get("Fn::Sub", text) if isinstance(text, dict) else text)


def test_github_anchors_of_headings():
    lines = ["# Operations", "## API 5xx rate", "```", "# not a heading", "```", "### `Queue` alarms: what *to* do"]
    page = "\n".join([*lines, "## API 5xx rate"])
    assert list(entries(page)) == ["operations", "api-5xx-rate", "queue-alarms-what-to-do", "api-5xx-rate-1"]
    assert "# not a heading" in entries(page)["api-5xx-rate"]
    assert github_anchor("Workflow executions failed or timed out") == "workflow-executions-failed-or-timed-out"
    assert github_anchor("See [Dead-letter queues](#x)") == "see-dead-letter-queues"


def test_every_alarm_names_its_runbook_entry_and_the_entry_names_the_alarm(sam_template):
    runbook = entries((PROJECT_ROOT / RUNBOOK).read_text())
    problems = []
    for logical_id, alarm in sorted(sam_template.of_type("AWS::CloudWatch::Alarm").items()):
        link = LINK.search(description(alarm["Properties"]))
        if not link:
            problems.append(f"{logical_id}: its AlarmDescription names no entry ('... Runbook: {RUNBOOK}#<anchor>')")
        elif link.group(1) not in runbook:
            problems.append(f"{logical_id}: {RUNBOOK} has no entry #{link.group(1)} (a heading whose anchor it is)")
        elif f"`{logical_id}`" not in runbook[link.group(1)]:
            problems.append(f"{logical_id}: the entry {RUNBOOK}#{link.group(1)} does not name `{logical_id}`")
    assert problems == [], "\n".join(problems)
