"""Every suite's set-up: fake AWS credentials, the fixtures (support/fixtures.py) where tests run,
and the least-privilege summary of the run."""

from __future__ import annotations

import gc
import json
import os
import shutil
from typing import Any

# Before anything creates a boto3 client: fake credentials, no endpoint or profile. Only the
# integration suite, given AWS_SAM_STACK_NAME, keeps the real ones (moto still intercepts the rest).
if not os.environ.get("AWS_SAM_STACK_NAME"):
    for _name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(_name, None)
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
    )

import pytest

from local_stack.lambda_runtime.service_models import share_service_models
from support.least_privilege_run import RESULTS, RUN_FILE, calls_left


def pytest_configure(config: pytest.Config) -> None:
    """The fixtures, where tests run: not in xdist's controller, which only hands them out to its
    workers, and would spend seconds importing moto and the stack before it starts them."""
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        return
    share_service_models()  # first: moto reads AWS's region tables when imported
    config.pluginmanager.import_plugin("support.fixtures")


def pytest_sessionstart(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):
        shutil.rmtree(RESULTS, ignore_errors=True)


def _whole_suite(config: pytest.Config) -> bool:
    """Run on the test paths with nothing left out (what `make test` runs)."""
    selected = config.option.keyword or config.option.markexpr or config.getoption("deselect")
    last_failed = config.getoption("lf", False)  # absent under -p no:cacheprovider
    return config.args_source == pytest.Config.ArgsSource.TESTPATHS and not selected and not last_failed


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """The calls of the run, for `python -m tools.least_privilege` (make test), and what it says."""
    if hasattr(config, "workerinput") or config.option.collectonly:
        return
    calls = calls_left()
    if not calls:
        return
    whole_suite_passed = exitstatus == 0 and _whole_suite(config)
    RUN_FILE.write_text(json.dumps({"whole_suite_passed": whole_suite_passed, "calls": [vars(c) for c in calls]}))
    principals = len({call.principal for call in calls})
    terminalreporter.section("least privilege")
    terminalreporter.write_line(
        f"{len(calls)} distinct requests by {principals} principals, each allowed by its own role."
    )
    if whole_suite_passed:
        terminalreporter.write_line("Unexercised grants: make test judges them next (python -m tools.least_privilege).")
    else:
        terminalreporter.write_line("Not the whole suite, all passed: unexercised grants are not checked.")


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Last of all (pytest's own collection for unraisable exceptions has run): what the session made
    is frozen, so that Python's final collection at exit does not walk it (moto's state, the stacks,
    every module: seconds in each process) to free memory that the OS frees at once."""
    gc.freeze()
