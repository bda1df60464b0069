"""What both parts of `make mutation` share: a copy of the project to mutate, the tests run in it,
and the outcome of one mutant."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from local_stack.template import PROJECT_ROOT

PYTEST = Path(sys.executable).with_name("pytest")


@dataclass(frozen=True)
class Outcome:
    key: str
    area: str
    operator: str
    verdict: str  # "killed (...)", "survived", "survived (no tests)", "invalid"
    seconds: float
    change: str = ""  # what the mutant changed, shown when it survives


def tracked_files() -> list[str]:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True).stdout
    return [name for name in files.decode().split("\0") if name and (PROJECT_ROOT / name).is_file()]


def workspace(parent: Path) -> Path:
    """A copy of the project's tracked files (as they are now), with its virtual environment."""
    root = parent / "project"
    for name in tracked_files():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_ROOT / name, root / name)
    (root / ".venv").symlink_to(PROJECT_ROOT / ".venv")
    return root


def pytest(root: Path, arguments: list[str]) -> int:
    command = [str(PYTEST), "-q", "-x", "-p", "no:randomly", "-p", "no:cacheprovider", *arguments]
    return subprocess.run(command, cwd=root, capture_output=True, check=False).returncode
