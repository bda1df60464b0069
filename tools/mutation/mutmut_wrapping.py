"""mutmut, made to mutate functions whose decorators only wrap them.

mutmut 3.8.1 (pinned) leaves every decorated function alone, since its trampoline copies the
function for the original and each mutant, and a copy that keeps a decorator such as
`@router.get("/orders")` registers a second route. Nearly every handler and route here is decorated
by Powertools, so their bodies would never be mutated. A decorator that only wraps the function (a
route, a logging or metrics context, an idempotency record, an event's data class) is safe on the
trampoline alone: the copies are written without it, and the trampoline, which keeps it, calls
them. A decorator that keeps results (`@cache`) or changes what the function is (`@property`) still
excludes the function.

Run by mutmut's own interpreter in place of the `mutmut` command, as
`python -P mutmut_wrapping.py run ...` (-P: this folder is not put on sys.path, where `code.py`
would hide the standard library's `code`), or `... generate` to make the mutants and run none.
code.py imports `wraps` from here to select the same functions.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any

# Decorators, by their last name, that register or wrap the function and keep no result of it.
WRAPPING = frozenset(
    {
        "inject_lambda_context",
        "log_metrics",
        "event_source",
        "idempotent",
        "idempotent_function",
        "get",
        "post",
        "put",
        "patch",
        "delete",
        "exception_handler",
        "not_found",
    }
)


def wraps(decorator: str) -> bool:
    """Whether a decorator, as written (`back_office.get("/orders")`), only wraps the function."""
    name = re.match(r"[\w.]+", decorator.removeprefix("@").strip())
    return name is not None and name.group().rsplit(".", 1)[-1] in WRAPPING


def patch_mutmut() -> None:
    """Judge a function whose decorators all wrap as if it had none, and write its copies without
    them (the trampoline keeps them)."""
    import libcst as cst  # mutmut's environment only
    from libcst.metadata import PositionProvider
    from mutmut.mutation import file_mutation

    def wrapping_only(node: cst.CSTNode) -> bool:
        return (
            isinstance(node, cst.FunctionDef)
            and bool(node.decorators)
            and all(wraps(cst.Module([]).code_for_node(d.decorator)) for d in node.decorators)
        )

    skip = file_mutation.MutationVisitor._skip_node_and_children

    def skip_unless_wrapped(self: Any, node: cst.CSTNode) -> bool:
        position = self.get_metadata(PositionProvider, node, None)
        pragma = position is not None and position.start.line in self._ignored_node_lines  # "no mutate"
        if wrapping_only(node) and not pragma:
            return bool(skip(self, node.with_changes(decorators=[])))
        return bool(skip(self, node))

    arrange = file_mutation.function_trampoline_arrangement

    def arrange_copies_unwrapped(function: Any, mutants: Any, class_name: str | None) -> Any:
        declarations, nodes, assignments, names = arrange(function, mutants, class_name)
        if wrapping_only(function):
            trampoline, *copies = nodes
            nodes = [trampoline, *(copy.with_changes(decorators=[]) for copy in copies)]
        return declarations, nodes, assignments, names

    file_mutation.MutationVisitor._skip_node_and_children = skip_unless_wrapped
    file_mutation.function_trampoline_arrangement = arrange_copies_unwrapped
    run_likely_killers_first()


KILLERS = "mutants/killers.tsv"  # under mutmut's working directory: function, test that killed a mutant of it


def run_likely_killers_first() -> None:
    """A mutant's tests run first those that killed a mutant of the same function, then of the same
    module, then the rest by their duration in the clean run, fastest first. mutmut passes them in a
    set's order and stops at the first failure, so a mutant of API code that a unit test kills in a
    tenth of a second could run a minute of workflow tests before it; and a mutant that only one slow
    test kills is most likely killed by the test that killed its siblings. Each kill is appended to
    KILLERS (mutmut judges each mutant in a forked process: what it learns must be written down)."""
    from mutmut.runners.harness import PytestRunner
    from mutmut.state import state
    from mutmut.utils.file_utils import change_cwd

    killers_file = os.path.abspath(KILLERS)

    def run_sorted(self: Any, *, mutant_name: str | None, tests: Any) -> int:
        function = (mutant_name or "").rsplit("__mutmut_", 1)[0]
        module = function.rpartition(".")[0]
        killed_siblings, killed_neighbours = _killers(killers_file, function, module)
        durations = state().duration_by_test

        def rank(test: str) -> tuple[int, float, str]:
            tier = 0 if test in killed_siblings else 1 if test in killed_neighbours else 2
            return tier, durations.get(test, 0.0), test

        first_failure = _FirstFailure()
        with change_cwd("mutants"):
            exit_code = int(
                self.execute_pytest(self._pytest_args_regular_run(sorted(tests, key=rank)), plugins=[first_failure])
            )
        if exit_code != 0 and first_failure.nodeid and mutant_name:
            with open(killers_file, "a") as killers:
                killers.write(f"{function}\t{first_failure.nodeid}\n")
        return exit_code

    PytestRunner.run_tests = run_sorted


class _FirstFailure:
    """A pytest plugin: the node id of the first test that failed (in any phase)."""

    def __init__(self) -> None:
        self.nodeid = ""

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.failed and not self.nodeid:
            self.nodeid = report.nodeid


def _killers(path: str, function: str, module: str) -> tuple[set[str], set[str]]:
    """The tests that killed a mutant of `function`, and those that killed one of another function of `module`."""
    siblings: set[str] = set()
    neighbours: set[str] = set()
    if not os.path.exists(path):
        return siblings, neighbours
    with open(path) as killers:
        for line in killers:
            killed, _, test = line.rstrip("\n").partition("\t")
            if killed == function:
                siblings.add(test)
            elif killed.rpartition(".")[0] == module:
                neighbours.add(test)
    return siblings, neighbours


def generate_mutants() -> None:
    """`mutmut run`'s first step alone: every mutant written under mutants/, each file's names in its
    .meta file, and no test run (make mutation --sample draws from every mutant, then judges those
    drawn with `run NAME...`, which finds the files' mutants made)."""
    from mutmut.__main__ import create_mutants
    from mutmut.mutation.trampoline import set_mutant_under_test
    from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir, setup_source_paths

    set_mutant_under_test("mutant_generation")
    os.makedirs("mutants", exist_ok=True)
    copy_src_dir()
    copy_also_copy_files()
    setup_source_paths()
    create_mutants(os.cpu_count() or 1)


if __name__ == "__main__":
    patch_mutmut()
    if sys.argv[1:] == ["generate"]:
        generate_mutants()
    else:
        from mutmut.__main__ import cli

        sys.argv[0] = "mutmut"
        cli()
