"""make mutation, Python part: the keys of every Python mutant, and our own operators for the
declarations that mutmut leaves alone (it mutates only inside functions): the bounds of Pydantic
fields, module constants and `extra="forbid"`."""

from __future__ import annotations

import ast
import difflib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

# Field bounds that a request or a record is validated against.
BOUNDS = ("gt", "ge", "lt", "le", "min_length", "max_length")


def key(file: str, name: str, before: str, after: str) -> str:
    """file:name:hash of the lines the change removes and adds, so the key holds when mutmut
    renumbers or another line of the function changes."""
    digest = hashlib.sha256("\n".join(changes(before, after)).encode()).hexdigest()[:10]
    return f"{file}:{name}:{digest}"


def changes(before: str, after: str) -> list[str]:
    return [
        line[0] + line[1:].strip()
        for line in difflib.ndiff(before.splitlines(), after.splitlines())
        if line[:1] in "+-"
    ]


@dataclass(frozen=True)
class DeclarationMutant:
    file: str
    owner: str  # what the statement defines: MAX_PRICE, ChunkOutcome.imported, Identifier
    operator: str
    lines: range  # of the statement changed
    start: int  # UTF-8 offsets of the text replaced
    end: int
    replacement: str
    key: str

    def applied(self, source: str) -> str:
        data = source.encode()
        return (data[: self.start] + self.replacement.encode() + data[self.end :]).decode()


def declaration_mutants(file: str, source: str) -> Iterator[DeclarationMutant]:
    """Where mutmut does not look, outside function bodies: numbers one step either way (the bounds
    of fields and constraints, and module constants such as MAX_LINE_QUANTITY), and
    extra="forbid" made "ignore"."""
    data = source.encode()
    line_starts = [0]
    for line in data.splitlines(keepends=True):
        line_starts.append(line_starts[-1] + len(line))

    def mutant(owner: str, statement: ast.stmt, value: ast.expr, operator: str, replacement: str) -> DeclarationMutant:
        start = line_starts[value.lineno - 1] + value.col_offset
        end = line_starts[(value.end_lineno or value.lineno) - 1] + (value.end_col_offset or 0)
        first, last = line_starts[statement.lineno - 1], line_starts[statement.end_lineno or statement.lineno]
        before = data[first:last].decode()
        after = (data[first:start] + replacement.encode() + data[end:last]).decode()
        lines = range(statement.lineno, (statement.end_lineno or statement.lineno) + 1)
        return DeclarationMutant(file, owner, operator, lines, start, end, replacement, key(file, owner, before, after))

    def walk(body: list[ast.stmt], owner: str) -> Iterator[DeclarationMutant]:
        for statement in body:
            if isinstance(statement, ast.ClassDef):
                yield from walk(statement.body, f"{owner}{statement.name}.")
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            name = _assigned_name(statement)
            where = f"{owner}{name or '<statement>'}"
            numbers = [keyword.value for keyword in _keywords(statement) if keyword.arg in BOUNDS]
            value = getattr(statement, "value", None)
            if not owner and name and name.isupper() and isinstance(value, ast.expr):
                numbers.append(value)
            for value in numbers:
                number = value.value if isinstance(value, ast.Constant) else None
                if isinstance(number, int | float) and not isinstance(number, bool):
                    for step, operator in ((1, "number-plus-one"), (-1, "number-minus-one")):
                        yield mutant(where, statement, value, operator, repr(number + step))
            for keyword in _keywords(statement):
                if (
                    keyword.arg == "extra"
                    and isinstance(keyword.value, ast.Constant)
                    and keyword.value.value == "forbid"
                ):
                    yield mutant(where, statement, keyword.value, "extra-ignored", '"ignore"')

    yield from walk(ast.parse(source).body, "")


def _assigned_name(statement: ast.stmt) -> str | None:
    targets = statement.targets if isinstance(statement, ast.Assign) else [getattr(statement, "target", None)]
    return targets[0].id if len(targets) == 1 and isinstance(targets[0], ast.Name) else None


def _keywords(statement: ast.stmt) -> Iterator[ast.keyword]:
    for node in ast.walk(statement):
        if isinstance(node, ast.Call):
            yield from node.keywords
