"""The least-privilege record of a run, without the recorder: each test process leaves its calls in
a folder of its own, and the run's are written to RUN_FILE once the run is over, for the judge of
the other way round (tools/least_privilege.py). Light to import: xdist's controller, which runs no
test, writes RUN_FILE (tests/conftest.py) without importing moto."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[2] / ".pytest_cache" / "least-privilege"
RUN_FILE = RESULTS / "run.json"  # written by tests/conftest.py


@dataclass(frozen=True)
class Call:
    principal: str
    action: str
    resource: str


def leave_calls(process: str, calls: set[Call]) -> None:
    """What one test process saw (xdist worker, or the only process)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"calls-{process}.json").write_text(json.dumps([vars(call) for call in calls]))


def calls_left() -> set[Call]:
    """Every process's calls, once."""
    return {Call(**call) for path in RESULTS.glob("calls-*.json") for call in json.loads(path.read_text())}
