"""What both parts of `make mutation` share: a copy of the project to mutate, its judge (the worker
that runs the tests in it), how a mutated file is written, which mutants --match selects, and the
outcome of one mutant."""

from __future__ import annotations

import filecmp
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from local_stack.cloudformation.template import PROJECT_ROOT
from support.least_privilege_run import RUN_FILE


def matches(match: str, key: str, operator: str = "") -> bool:
    """--match: a regular expression found in the mutant's key (a plain file or function name is one),
    or its operator's name. A scheduled job selects a share of a target this way (.github/workflows)."""
    return re.search(match, key) is not None or match == operator


@dataclass(frozen=True)
class Outcome:
    key: str
    area: str
    operator: str
    verdict: str  # "killed (...)", "survived", "survived (no tests)", "invalid"
    seconds: float
    change: str = ""  # what the mutant changed, shown when it survives

    def print(self) -> None:
        print(f"{self.verdict:<18} {self.seconds:5.1f} s  {self.key} [{self.operator}]", flush=True)


def tracked_files() -> list[str]:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True).stdout
    return [name for name in files.decode().split("\0") if name and (PROJECT_ROOT / name).is_file()]


def workspace(parent: Path) -> Path:
    """A copy of the project's tracked files as they are now, with its virtual environment. A copy
    kept from an earlier run is brought up to date: what changed is copied (dated now, so that it
    is newer than anything made from the old version), what is no longer tracked is removed, and
    everything else it holds stays."""
    root = parent / "project"
    manifest = parent / "tracked-files"
    tracked = tracked_files()
    for name in set(manifest.read_text().splitlines() if manifest.is_file() else []) - set(tracked):
        (root / name).unlink(missing_ok=True)
    for name in tracked:
        copy = root / name
        if not copy.is_file() or not filecmp.cmp(PROJECT_ROOT / name, copy, shallow=False):
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(PROJECT_ROOT / name, copy)
    if not (root / ".venv").is_symlink():
        (root / ".venv").symlink_to(PROJECT_ROOT / ".venv")
    manifest.write_text("\n".join(tracked))
    return root


def write(path: Path, text: str) -> None:
    """Writes a mutant, or the original back, one second later than the file's last write: Python's
    bytecode cache knows a source by its size and whole-second mtime, and a mutant of the same size
    written within the second would otherwise be judged by the original's bytecode (or the next
    one by the mutant's)."""
    stamp = int(path.stat().st_mtime) + 1
    path.write_text(text)
    os.utime(path, (stamp, stamp))


class Judge:
    """A workspace and its worker (tools.mutation.worker): the test stack imported once, each check in a
    fresh fork of it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "tools.mutation.worker"],
            cwd=root,
            env={**os.environ, "PYTHONPATH": "tests"},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.worker.stdin
        assert self.worker.stdout
        self.requests, self.answers = self.worker.stdin, self.worker.stdout

    def ask(self, request: dict[str, object]) -> int:
        self.requests.write(json.dumps(request) + "\n")
        self.requests.flush()
        return int(self.answers.readline())

    def pytest(self, arguments: list[str]) -> int:
        return self.ask({"pytest": arguments})

    def least_privilege(self) -> int:
        """The check that `make test` runs after the suite, on the mutated template and the requests
        of the main project's last whole run (copied when the run began: the tests of each mutant
        write their own, partial, run file)."""
        return self.ask({"least_privilege": str(self.root.parent / RUN_FILE.name)})

    def close(self) -> None:
        self.requests.close()
        self.worker.wait()
