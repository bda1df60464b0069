"""Which functions mutmut mutates and which of them a change touches (by the lines git says it
changed), and mutmut's names for their mutants: `orders_domain.orders.xǁOrderǁcancel__mutmut_3` is
a mutant of Order.cancel in the module orders_domain.orders."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

from tools.mutation.code_operators import key
from tools.mutation.mutmut_wrapping import wraps

CLASS = "ǁ"  # mutmut's separator in a method's name: xǁOrderǁcancel


def changed_lines(root: Path, revision: str, file: str) -> set[int]:
    """Lines of `file` (as it is now) that differ from `revision`; a deletion touches the lines on
    both sides of it."""
    diff = subprocess.run(
        ["git", "diff", "--unified=0", revision, "--", file], cwd=root, capture_output=True, text=True, check=True
    ).stdout
    lines: set[int] = set()
    for start, count in re.findall(r"^@@ -\S+ \+(\d+)(?:,(\d+))? @@", diff, re.MULTILINE):
        first, length = int(start), int(count or 1)
        lines.update(range(first, first + length) if length else (first, first + 1))
    return lines


def definitions(source: str) -> dict[str, range]:
    """The lines of what mutmut mutates, by qualified name: top-level functions and methods of
    top-level classes, undecorated or with decorators that only wrap them (tools.mutation.mutmut_wrapping),
    @staticmethod and @classmethod."""
    spans: dict[str, range] = {}
    for node in ast.parse(source).body:
        members = (
            [(f"{node.name}.", member) for member in node.body] if isinstance(node, ast.ClassDef) else [("", node)]
        )
        for prefix, function in members:
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef) and _mutated_by_mutmut(function):
                spans[prefix + function.name] = _span(function)
    return spans


def _mutated_by_mutmut(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    decorators = [ast.unparse(decorator) for decorator in function.decorator_list]
    return decorators in (["staticmethod"], ["classmethod"]) or all(map(wraps, decorators))


def _span(node: ast.FunctionDef | ast.AsyncFunctionDef) -> range:
    first = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
    return range(first, (node.end_lineno or node.lineno) + 1)


def touched(source: str, lines: set[int] | None) -> list[str]:
    """The functions (qualified names) that a change of these lines touches; None: every function."""
    return [name for name, span in definitions(source).items() if lines is None or not lines.isdisjoint(span)]


def mutmut_pattern(module: str, qualified_name: str) -> str:
    """mutmut's name for the mutants of one function: orders_domain.orders.xǁOrderǁcancel__mutmut_*."""
    *owner, name = qualified_name.split(".")
    mangled = f"x{CLASS}{owner[0]}{CLASS}{name}" if owner else f"x_{name}"
    return f"{module}.{mangled}__mutmut_*"


def qualified_name(mutmut_name: str) -> str:
    """orders_domain.orders.xǁOrderǁcancel__mutmut_3 -> Order.cancel."""
    mangled = mutmut_name.rsplit(".", 1)[1].rsplit("__mutmut_", 1)[0]
    return mangled.removeprefix("x_").removeprefix(f"x{CLASS}").replace(CLASS, ".")


def mutmut_functions(mutated_file: str) -> dict[str, str]:
    """Every function of a file mutmut wrote (the originals and their mutants, renamed), by its name
    there: parsed once for all the file's mutants."""
    return {
        node.name: ast.get_source_segment(mutated_file, node) or ""
        for node in ast.walk(ast.parse(mutated_file))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def mutmut_sources(functions: dict[str, str], mutmut_name: str) -> tuple[str, str]:
    """The function as it was and as one of mutmut's mutants (from mutmut_functions), both under the
    original's name."""
    mangled = mutmut_name.rsplit(".", 1)[1]
    original_name = f"{mangled.rsplit('__mutmut_', 1)[0]}__mutmut_orig"
    return functions[original_name], functions[mangled].replace(mangled, original_name, 1)


def mutmut_key(file: str, functions: dict[str, str], mutmut_name: str) -> str:
    """The key (file:name:hash) of one of mutmut's mutants, the one survivors.toml lists."""
    return key(file, qualified_name(mutmut_name), *mutmut_sources(functions, mutmut_name))
