"""make mutation: every mutant of the template and the state machines (the declarative part,
tools/mutation/declarative.py) and of the Python code (the Python part, tools/mutation/code.py:
mutmut's and our own), each in a copy of the project, killed or not by the tests.

    PYTHONPATH=tests python -m tools.mutation [--all | --changed-since REV] [--workflows] [--match REGEX] [--jobs N]
        [--part declarative|python] [--mutmut-python PATH] [--save FILE]
    PYTHONPATH=tests python -m tools.mutation --sample N [--seed S] [--part ...] [--match REGEX]
    PYTHONPATH=tests python -m tools.mutation --score FILE...

Declarative part: static first, the template tests (values asserted in milliseconds, no linters)
judge every mutant, then least privilege both ways on the requests recorded by the last whole
`make test` (a grant that none of them needed kills the mutant; run make test first). With
--workflows, a state machine's mutant that survives both is run against that state machine's own
workflow tests. Python part: the unit and workflow suites judge each mutant, mutmut running only
the tests that reach the mutated function (which it learns once per copy of the project, kept
under .mutation/; a whole run starts afresh). A survivor fails the run unless
tools/mutation/survivors.toml lists its key with a reason.

By default only the mutants of resources, states and functions changed since the baseline (the
revision of the declarative part's last whole run, and of each Python target's, `baseline_revision`
in survivors.toml) run: the incremental run.
--all runs every mutant (the scheduled job); --changed-since REV picks another revision.
--sample N judges N mutants drawn at random from each area's (functions, domain, local stack,
declarative) and prints each area's score with its 95 % interval (tools/mutation/sampling.py).
--save writes the outcomes to a file; --score reports those of several runs as one (the scheduled
job's shards, each a share of a whole run).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from queue import Queue

from local_stack.cloudformation.template import PROJECT_ROOT
from support.least_privilege_run import RUN_FILE
from tools.mutation import code, sampling
from tools.mutation.code_operators import DeclarationMutant
from tools.mutation.declarative import STATE_MACHINES, TEMPLATE, Mutant, load, mutants, parse
from tools.mutation.judging import Judge, Outcome, matches, workspace

SURVIVORS = Path(__file__).with_name("survivors.toml")
STATIC = ["tests/template", "-k", "not sam_validate and not cfn_lint and not statelint and not actionlint"]
ORDER_TESTS = [  # the order workflow's, one file per business route
    "tests/workflow/test_order_confirmation.py",
    "tests/workflow/test_order_rejections.py",
    "tests/workflow/test_order_approval.py",
    "tests/workflow/test_order_payment_breaker.py",
    "tests/workflow/test_order_faults.py",
    "tests/workflow/test_order_cancellation.py",
]
WORKFLOW_TESTS = {
    f"{STATE_MACHINES}/order_workflow.asl.json": ORDER_TESTS,
    f"{STATE_MACHINES}/order_steps_workflow.asl.json": ORDER_TESTS,
    f"{STATE_MACHINES}/import_workflow.asl.json": ["tests/workflow/imports"],
    f"{STATE_MACHINES}/import_chunk_workflow.asl.json": ["tests/workflow/imports"],
    f"{STATE_MACHINES}/quote_workflow.asl.json": ["tests/workflow/test_quote_workflow.py"],
}  # fmt: skip


def verdict_on(mutant: Mutant, judge: Judge, workflows: bool, least_privilege: bool) -> str:
    original = (judge.root / mutant.file).read_text()
    try:
        mutant.apply(judge.root)
        static = judge.pytest(STATIC)
        if static == 1:
            return "killed (static)"
        if static != 0:
            return "invalid"
        if least_privilege and judge.least_privilege() == 1:
            return "killed (static)"
        if workflows and mutant.file in WORKFLOW_TESTS and judge.pytest(WORKFLOW_TESTS[mutant.file]) == 1:
            return "killed (workflow)"
        return "survived" if least_privilege else "survived (least privilege not judged)"
    finally:
        (judge.root / mutant.file).write_text(original)


def changed_since(revision: str, selected: list[Mutant]) -> list[Mutant]:
    """The mutants of resources and states whose definition differs from the one at `revision`."""

    def old(file: str) -> object:
        shown = subprocess.run(
            ["git", "show", f"{revision}:{file}"], cwd=PROJECT_ROOT, capture_output=True, check=False
        )
        return parse(shown.stdout.decode(), Path(file).suffix) if shown.returncode == 0 else {}

    def part(document: object, mutant: Mutant) -> object:
        name = mutant.location.split(".", 1)[0].split("+", 1)[0]
        if mutant.file == TEMPLATE:
            return document.get("Resources", {}).get(name) if isinstance(document, dict) else None
        return _state(document, name)

    before = {file: old(file) for file in {m.file for m in selected}}
    now = {file: load(PROJECT_ROOT / file) for file in before}
    return [m for m in selected if part(before[m.file], m) != part(now[m.file], m)]


def _state(definition: object, name: str) -> object:
    if isinstance(definition, dict):
        if name in definition.get("States", {}):
            return definition["States"][name]
        for value in definition.values():
            if (found := _state(value, name)) is not None:
                return found
    if isinstance(definition, list):
        for value in definition:
            if (found := _state(value, name)) is not None:
                return found
    return None


def run(
    selected: list[Mutant], jobs: int, workflows: bool, scratch: Path, least_privilege: bool = True
) -> list[Outcome]:
    judges: Queue[Judge] = Queue()
    for index in range(jobs):
        root = workspace(scratch / str(index))
        if least_privilege:
            shutil.copy2(RUN_FILE, root.parent / RUN_FILE.name)
        judges.put(Judge(root))

    def one(mutant: Mutant) -> Outcome:
        judge = judges.get()
        started = time.monotonic()
        try:
            verdict = verdict_on(mutant, judge, workflows, least_privilege)
        finally:
            judges.put(judge)
        outcome = Outcome(mutant.key, mutant.area, mutant.operator, verdict, time.monotonic() - started)
        outcome.print()
        return outcome

    with ThreadPoolExecutor(jobs) as pool:
        outcomes = list(pool.map(one, selected))
    while not judges.empty():
        judges.get().close()
    return outcomes


def report(outcomes: list[Outcome], baseline: dict[str, str], seconds: float | None) -> int:
    by_area: dict[str, Counter[str]] = defaultdict(Counter)
    for outcome in outcomes:
        by_area[outcome.area][outcome.verdict.split(" ")[0]] += 1
    print(f"\n{'area':<52} {'mutants':>7} {'killed':>6} {'justified':>9} {'score':>6}")
    not_killed = [o for o in outcomes if not o.verdict.startswith("killed")]
    for area, counts in sorted(by_area.items()):
        total = sum(counts.values())
        justified = sum(1 for o in not_killed if o.area == area and o.key in baseline)
        score = (counts["killed"] + justified) / total
        print(f"{area:<52} {total:>7} {counts['killed']:>6} {justified:>9} {score:>6.0%}")
    new = [o for o in not_killed if o.key not in baseline]
    for outcome in new:
        print(f"NEW {outcome.verdict.upper()}: {outcome.key} [{outcome.operator}]")
        if outcome.change:
            print("    " + outcome.change.replace("\n", "\n    "))
    stale = sorted(set(baseline) & {o.key for o in outcomes if o.verdict.startswith("killed")})
    for key in stale:
        print(f"killed now, remove from {SURVIVORS.name}: {key}")
    print(f"{len(outcomes)} mutants" + (f" in {seconds / 60:.1f} min" if seconds is not None else ""))
    return 1 if new else 0


def survivors_listed() -> dict[str, str]:
    """survivors.toml's keys, each with its reason."""
    return {entry["key"]: entry["reason"] for entry in tomllib.loads(SURVIVORS.read_text())["survivor"]}


def sample(options: argparse.Namespace, listed: dict[str, str], declarative: bool) -> int:
    """--sample N --seed S: every mutant of each area enumerated, N drawn and judged, the scores
    reported with their intervals; survivors.toml's keys that no mutant of the parts enumerated has
    any longer are pruned from it."""
    population: list[sampling.Candidate] = []
    if declarative:
        population += sampling.declarative_population()
    if options.part in (None, "python"):
        population += sampling.python_population(options.mutmut_python.absolute())

    def enumerated(key: str) -> bool:
        file = key.split(":", 1)[0]
        return (
            declarative if file == TEMPLATE or file.startswith(f"{STATE_MACHINES}/") else options.part != "declarative"
        )

    sampling.prune(SURVIVORS, sampling.stale(listed, population, enumerated))
    selected = sampling.select(population, options.match)
    drawn = sampling.draw(selected, options.sample, options.seed)
    sizes = Counter(candidate.area for candidate in selected)
    for area, chosen in drawn.items():
        print(f"{area}: {len(chosen)} of {sizes[area]} mutants drawn (seed {options.seed})", flush=True)
    started = time.monotonic()
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="mutation-") as scratch:
        if ours := [c.mutant for c in drawn.pop("declarative", []) if isinstance(c.mutant, Mutant)]:
            least_privilege = not options.no_least_privilege
            outcomes += run(ours, options.jobs, options.workflows, Path(scratch) / "declarative", least_privilege)
        python = [candidate for found in drawn.values() for candidate in found]
        names: dict[str, list[str]] = {}
        for candidate in python:
            if isinstance(candidate.mutant, str):
                names.setdefault(candidate.target, []).append(candidate.mutant)
        declarations = [c.mutant for c in python if isinstance(c.mutant, DeclarationMutant)]
        mutmut_python = options.mutmut_python.absolute()
        outcomes += code.judge(names, declarations, mutmut_python, Path(scratch) / "python", options.jobs)
    if options.save:
        options.save.write_text(json.dumps([asdict(outcome) for outcome in outcomes], indent=1))
    print(f"{len(outcomes)} mutants judged in {(time.monotonic() - started) / 60:.1f} min")
    return sampling.report(dict(sizes), outcomes, survivors_listed(), options.seed)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.mutation", description=__doc__.split("\n\n")[0])
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--all", action="store_true", help="every mutant (default: changed since the baseline)")
    scope.add_argument("--changed-since", metavar="REV", help="resources, states and functions changed since REV")
    parser.add_argument("--workflows", action="store_true", help="run static survivors against their workflow tests")
    parser.add_argument("--match", default="", help="only mutants whose key REGEX finds, or of operator REGEX")
    parser.add_argument("--jobs", type=int, default=2, help="mutants judged at once")
    parser.add_argument("--part", choices=("declarative", "python"), help="only this part (default: both)")
    parser.add_argument(
        "--mutmut-python", type=Path, default=PROJECT_ROOT / ".venv-mutation" / "bin" / "python", help="mutmut's"
    )
    scope.add_argument("--sample", type=int, metavar="N", help="N mutants of each area drawn at random (all if fewer)")
    parser.add_argument("--seed", type=int, default=0, help="of the --sample draw (default 0)")
    parser.add_argument(
        "--no-least-privilege",
        action="store_true",
        help="--sample without a whole make test: declarative mutants that only least privilege kills survive",
    )
    parser.add_argument("--save", type=Path, metavar="FILE", help="write the outcomes to FILE (JSON)")
    parser.add_argument("--score", type=Path, nargs="+", metavar="FILE", help="report the outcomes saved in FILEs")
    options = parser.parse_args()
    survivors = tomllib.loads(SURVIVORS.read_text())
    baseline = survivors_listed()
    if options.score:
        saved = [Outcome(**outcome) for file in options.score for outcome in json.loads(file.read_text())]
        return report(saved, baseline, None)
    declarative = options.part in (None, "declarative")
    if (
        declarative
        and not options.no_least_privilege
        and (not RUN_FILE.is_file() or not json.loads(RUN_FILE.read_text())["whole_suite_passed"])
    ):
        print("make mutation needs the requests recorded by a whole, passing make test: run it first")
        return 2

    if options.sample is not None:
        return sample(options, survivors_listed(), declarative)

    def since(part: str) -> str | None:
        return None if options.all else options.changed_since or survivors["baseline_revision"][part]

    started = time.monotonic()
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="mutation-") as scratch:
        if declarative:
            selected = [m for m in mutants(PROJECT_ROOT) if matches(options.match, m.key, m.operator)]
            if (revision := since("declarative")) is not None:
                selected = changed_since(revision, selected)
            outcomes += run(selected, options.jobs, options.workflows, Path(scratch) / "declarative")
        if options.part in (None, "python"):
            revisions = {target.name: since(target.name) for target in code.targets(PROJECT_ROOT)}
            selection = code.Selection(revisions, options.match)
            # absolute (not resolved: a venv's python is a link): mutmut runs in each target's copy
            outcomes += code.run(selection, options.mutmut_python.absolute(), Path(scratch) / "python", options.jobs)
    if options.save:
        options.save.write_text(json.dumps([asdict(outcome) for outcome in outcomes], indent=1))
    return report(outcomes, baseline, time.monotonic() - started)


if __name__ == "__main__":
    sys.exit(main())
