"""make mutation, Python part: mutmut's mutants of every function body of the domain package and of
each function's code, and our own of the declarations that mutmut leaves alone
(tools.mutation.code_operators), judged by the same suites.

mutmut knows a mutant by its module, as the tests import it: `orders_domain.pricing.x_quote__mutmut_3`
while the file is layers/common/orders_domain/pricing.py, `notify.x_lambda_handler__mutmut_1` while it
is src/notify/notify.py. So each target runs in a copy of the project with a path shim: the package
(or every function's modules, each named for its function, so one run holds them all) linked at the
copy's root, which mutmut mutates, and its place in mutmut's own copy linked back to the mutated one,
where the local stack loads it from as Lambda would. Each target's copy is kept under .mutation/
between runs (KEPT), with what mutmut learned in it.

Keys do not use mutmut's numbers: file, qualified function (or class) name and a hash of the lines
the mutant changes.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from local_stack.cloudformation.template import PROJECT_ROOT
from tools.mutation import mutmut_wrapping
from tools.mutation.changed_functions import (
    changed_lines,
    mutmut_functions,
    mutmut_key,
    mutmut_pattern,
    mutmut_sources,
    touched,
)
from tools.mutation.code_operators import DeclarationMutant, changes, declaration_mutants
from tools.mutation.judging import Judge, Outcome, matches, tracked_files, workspace, write

DOMAIN = "layers/common/orders_domain"
HTTP_BODIES = "layers/common/http_bodies"  # in the common layer beside the domain, scored with it
FUNCTIONS = "src"
# The local stack's pure modules, which unit tests check directly: CloudFormation intrinsics, API
# Gateway's mapping templates, DynamoDB stream records as an event source mapping delivers them.
LOCAL_STACK = (
    "local_stack/cloudformation/intrinsics.py",
    "local_stack/apigateway/mapping_templates.py",
    "local_stack/lambda_runtime/streams.py",
)
# The suites that run in process on moto: the template, build and Docker suites test no Python path
# of ours that these do not, and e2e and sam_local need `make dev` or Docker. Not the API fuzzing
# either: its 300 random examples a test reach nearly every function (so they would run for nearly
# every mutant, traced, for minutes) and would make a verdict vary from run to run. The tests of tools/
# (tests/tools) are not run either: they judge no code of the application.
TESTS = [
    "tests/unit",
    "tests/workflow",
    "--ignore=tests/unit/test_api_fuzz.py",
]
PYTEST_ARGUMENTS = ["-p", "no:randomly"]
# What a function logs is read by people, asserted by no test (its outcome is): logging statements
# are not mutated, a declared rule rather than a survivor per message.
NOT_MUTATED = [r"^\s*logger\.(debug|info|warning|error|exception)\("]
# Each target's copy of the project, kept between runs for what mutmut learns in it first: which
# tests reach which function (its stats, about 30 minutes of the suite traced). A later run traces
# only the tests it has not seen and runs the mutants of the functions selected, all of them again.
KEPT = PROJECT_ROOT / ".mutation"
STATUS = {
    1: "killed (mutmut)",
    3: "killed (mutmut)",
    0: "survived",
    33: "survived (no tests)",
    5: "survived (no tests)",
}
TIMEOUTS = {36, -24, 24, 152, 255}


@dataclass(frozen=True)
class Target:
    """What one mutmut run mutates: paths relative to the project root, each linked at the copy's
    root under its own name (so `layers/common/orders_domain` is the package `orders_domain`)."""

    name: str  # of its copy under KEPT
    sources: tuple[str, ...]
    only: tuple[str, ...] = ()  # the files mutated, when not every file of the sources


def targets(root: Path) -> list[Target]:
    """The domain package, the modules of every function at once (one stats phase for all), the
    local stack's pure modules."""
    modules = sorted(
        entry.relative_to(root).as_posix()
        for folder in (root / FUNCTIONS).iterdir()
        if folder.is_dir()
        for entry in folder.iterdir()
        if entry.suffix == ".py" or (entry / "__init__.py").is_file()
    )
    names = Counter(Path(module).name for module in modules)
    if clashes := sorted(name for name, count in names.items() if count > 1):
        raise ValueError(f"two functions have a module named {', '.join(clashes)}: mutmut would confuse them")
    return [
        Target("orders_domain", (DOMAIN, HTTP_BODIES)),
        Target("functions", tuple(modules)),
        Target("local_stack", ("local_stack",), LOCAL_STACK),
    ]


def area(file: str) -> str:
    """What a score is given for (besides the declarative part): the functions (src/), the domain
    package, the local stack."""
    if file.startswith((DOMAIN, HTTP_BODIES)):
        return "domain"
    return "local stack" if file in LOCAL_STACK else "functions"


# --- running ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """Which mutants run: in each target, every one or those of what changed since its revision (its
    last whole run); and of those, the ones whose key (file:name) `match` selects."""

    revisions: dict[str, str | None]  # by target name; None: every mutant
    match: str

    def lines(self, target: Target, file: str) -> set[int] | None:
        """None: every line."""
        revision = self.revisions[target.name]
        return None if revision is None else changed_lines(PROJECT_ROOT, revision, file)


def also_copy(files: list[str], sources: tuple[str, ...]) -> list[str]:
    """What mutmut copies besides its sources: the largest folders and files that hold none of them
    (a copied source would overwrite the link to the mutated one)."""

    def inside(path: str, folder: str) -> bool:
        return path == folder or path.startswith(f"{folder}/")

    copied = set()
    for file in files:
        if not any(inside(file, source) for source in sources):
            parts = file.split("/")
            prefixes = ("/".join(parts[:depth]) for depth in range(1, len(parts) + 1))
            copied.add(next(prefix for prefix in prefixes if not any(inside(source, prefix) for source in sources)))
    return sorted(copied)


def module_files(target: Target) -> list[tuple[str, str, str]]:
    """Each Python file of the target: the module name the tests import it as, its path in the
    project, and its path under the copy's root (through the shim)."""
    found = []
    for source in target.sources:
        path = PROJECT_ROOT / source
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            if target.only and file.relative_to(PROJECT_ROOT).as_posix() not in target.only:
                continue
            linked = file.relative_to(path.parent)
            module = linked.with_suffix("").as_posix().replace("/", ".").removesuffix(".__init__")
            found.append((module, file.relative_to(PROJECT_ROOT).as_posix(), linked.as_posix()))
    return found


def patterns(target: Target, selection: Selection) -> list[str]:
    """mutmut's names for the selected functions' mutants."""
    found = []
    for module, file, _ in module_files(target):
        for name in touched((PROJECT_ROOT / file).read_text(), selection.lines(target, file)):
            if matches(selection.match, f"{file}:{name}"):
                found.append(mutmut_pattern(module, name))
    return found


def prepare(copy: Path, target: Target) -> None:
    """The path shim and mutmut's configuration, in the copy only; what mutmut copied besides the
    sources last time is removed, so that it copies the files as they are now (and a test since
    deleted does not run)."""
    for source in target.sources:
        name = Path(source).name
        if name == source:
            continue  # at the copy's root already, under the name the tests import
        if not (copy / name).is_symlink():
            (copy / name).symlink_to(source)
        inside = copy / "mutants" / source
        if not inside.is_symlink():
            inside.parent.mkdir(parents=True, exist_ok=True)
            inside.symlink_to(os.path.relpath(copy / "mutants" / name, inside.parent))
    config = {
        "source_paths": [Path(source).name for source in target.sources],
        "also_copy": also_copy(tracked_files(), target.sources),
        "only_mutate": list(target.only),
        "do_not_mutate_patterns": NOT_MUTATED,
        "pytest_add_cli_args": PYTEST_ARGUMENTS,
        "pytest_add_cli_args_test_selection": TESTS,
    }
    for path in config["also_copy"]:
        copied = copy / "mutants" / path
        if copied.is_dir():
            shutil.rmtree(copied)
        copied.unlink(missing_ok=True)
    (copy / "pyproject.toml").write_text(
        (PROJECT_ROOT / "pyproject.toml").read_text()
        + "\n[tool.mutmut]\n"
        + "".join(f"{name} = {json.dumps(value)}\n" for name, value in config.items())
    )


def mutmut(python: Path, copy: Path, *arguments: str) -> int:
    """mutmut's command, run by `python` (its environment's) through tools.mutation.mutmut_wrapping in a
    prepared copy, its output in mutmut.log."""
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}  # the copy's own
    with (copy / "mutmut.log").open("w") as output:
        command = [str(python), "-P", mutmut_wrapping.__file__, *arguments]
        finished = subprocess.run(
            command, cwd=copy, env=environment, stdout=output, stderr=subprocess.STDOUT, check=False
        )
    return finished.returncode


def run_mutmut(copy: Path, target: Target, selected: list[str], python: Path, children: int) -> list[Outcome]:
    """mutmut judging the selected mutants (names or patterns of them) in the copy, `children` at once."""
    prepare(copy, target)
    log = copy / "mutmut.log"
    if mutmut(python, copy, "run", "--max-children", str(children), *selected) != 0:
        if "nothing matches" in log.read_text():  # the changed functions have nothing mutmut mutates
            return []
        raise RuntimeError(f"mutmut failed in {copy}:\n{log.read_text()[-3000:]}")
    outcomes = []
    for _, file, linked in module_files(target):
        meta = copy / "mutants" / f"{linked}.meta"
        if not meta.is_file():
            continue
        results = json.loads(meta.read_text())
        functions = mutmut_functions((copy / "mutants" / linked).read_text())
        for name, exit_code in results["exit_code_by_key"].items():
            if exit_code is None or not any(fnmatch.fnmatchcase(name, pattern) for pattern in selected):
                continue  # not selected (a kept copy holds the verdicts of earlier runs)
            before, after = mutmut_sources(functions, name)
            verdict = "killed (timeout)" if exit_code in TIMEOUTS else STATUS.get(exit_code, "invalid")
            seconds = results["durations_by_key"].get(name, 0.0)
            change = "\n".join(changes(before, after))
            outcomes.append(Outcome(mutmut_key(file, functions, name), area(file), "mutmut", verdict, seconds, change))
    return outcomes


def run_declarations(judge: Judge, selected: list[DeclarationMutant]) -> list[Outcome]:
    """Each mutant applied in turn to the judge's copy and judged by the same suites as mutmut's (all
    of them: no coverage tells which tests a declaration matters to), the first failure ends it.
    The worker imports none of the mutated modules before it forks."""
    outcomes = []
    for mutant in selected:
        path = judge.root / mutant.file
        original = path.read_text()
        mutated = mutant.applied(original)
        started = time.monotonic()
        try:
            write(path, mutated)
            exit_code = judge.pytest(TESTS)
        finally:
            write(path, original)
        verdict = {0: "survived", 1: "killed (tests)"}.get(exit_code, "invalid")
        change = "\n".join(changes(original, mutated))
        outcome = Outcome(mutant.key, area(mutant.file), mutant.operator, verdict, time.monotonic() - started, change)
        outcome.print()
        outcomes.append(outcome)
    return outcomes


def declaration_selection(selection: Selection) -> list[DeclarationMutant]:
    found = []
    for target in targets(PROJECT_ROOT):
        for _, file, _ in module_files(target):
            lines = selection.lines(target, file)
            for mutant in declaration_mutants(file, (PROJECT_ROOT / file).read_text()):
                chosen = lines is None or not lines.isdisjoint(mutant.lines)
                if chosen and matches(selection.match, mutant.key, mutant.operator):
                    found.append(mutant)
    return found


def mutants_made_by() -> str:
    """What makes mutmut's mutants besides the sources: our wrapper of it and the pinned versions."""
    made_by = Path(mutmut_wrapping.__file__).read_bytes() + (PROJECT_ROOT / "requirements/mutation.txt").read_bytes()
    return hashlib.sha256(made_by).hexdigest()


def kept_copy(target: Target) -> Path:
    """The target's copy under KEPT, started afresh when its mutants were made otherwise (mutmut makes
    a file's mutants again only when the file changes), then brought up to date."""
    parent = KEPT / target.name
    stamp = parent / "mutants-made-by"
    if not stamp.is_file() or stamp.read_text() != mutants_made_by():
        shutil.rmtree(parent, ignore_errors=True)
        parent.mkdir(parents=True)
        stamp.write_text(mutants_made_by())
    return workspace(parent)


def run(selection: Selection, python: Path, scratch: Path, jobs: int) -> list[Outcome]:
    """Every target with selected functions, in its copy kept under .mutation/ (a whole run starts
    them afresh), then the class-level mutants in one more copy."""
    if not selection.match and not any(selection.revisions.values()):
        shutil.rmtree(KEPT, ignore_errors=True)
    chosen = {target.name: patterns(target, selection) for target in targets(PROJECT_ROOT)}
    return judge(chosen, declaration_selection(selection), python, scratch, jobs)


def judge(
    chosen: dict[str, list[str]], declarations: list[DeclarationMutant], python: Path, scratch: Path, jobs: int
) -> list[Outcome]:
    """mutmut's mutants chosen in each target (its names, or patterns of them), in the target's kept
    copy, then our declaration mutants in one more copy."""
    outcomes: list[Outcome] = []
    for target in targets(PROJECT_ROOT):
        if selected := chosen.get(target.name):
            print(f"mutmut: {target.name}, {len(selected)} functions or mutants", flush=True)
            started = time.monotonic()
            found = run_mutmut(kept_copy(target), target, selected, python, jobs)
            print(f"  {len(found)} mutants in {(time.monotonic() - started) / 60:.1f} min, clean run included")
            summarize(found)
            outcomes.extend(found)
    if declarations:
        declaration_judge = Judge(workspace(scratch / "declarations"))
        try:
            found = run_declarations(declaration_judge, declarations)
        finally:
            declaration_judge.close()
        summarize(found)
        outcomes.extend(found)
    return outcomes


def summarize(outcomes: list[Outcome]) -> None:
    """One line per file: what a change to it costs and how well the tests guard it."""
    by_file: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        by_file.setdefault(outcome.key.split(":", 1)[0], []).append(outcome)
    for file, found in sorted(by_file.items()):
        counts = Counter(outcome.verdict for outcome in found)
        killed = sum(n for verdict, n in counts.items() if verdict.startswith("killed"))
        per_mutant = sum(outcome.seconds for outcome in found) / len(found)
        print(
            f"  {file:<52} {len(found):>4} mutants {killed:>4} killed {counts['killed (timeout)']:>3} timeouts "
            f"{len(found) - killed:>3} not killed  {per_mutant:5.1f} s/mutant",
            flush=True,
        )
