"""One judge per workspace: imports the test stack once, then runs each request (a pytest selection,
or the least-privilege check) in a fork of itself, so that every mutant starts from the same clean
state without paying for an interpreter and its imports again (about 10 s of the 20 s a mutant took).

    cd WORKSPACE && PYTHONPATH=tests python -m tools.mutation.worker

Reads one JSON request per line on stdin ({"pytest": [arguments]} or {"least_privilege": run file}),
answers each with the exit status on stdout. What the tests need and no mutant changes is imported
before forking (cfn-lint, samtranslator, moto's Step Functions interpreter, the local stack); what
mutants change is not: the template and the state machines are read by the tests, and the domain
package and the functions are imported by the tests and the local stack, in each child.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

# Imported here once for every child (F401: no name of these is used in this module).
import cfnlint.api  # noqa: F401
import pytest
import samtranslator.translator.transform  # noqa: F401

import local_stack.apigateway.integrations
import local_stack.moto_patches.adapter  # noqa: F401
from support import api, least_privilege, workflow  # noqa: F401
from tools import least_privilege as judge_of_grants

PYTEST_OPTIONS = ["-q", "-x", "-p", "no:randomly", "-p", "no:cacheprovider"]


def judge(request: dict[str, Any]) -> int:
    """Runs in the child: its output goes nowhere, its exit status is the verdict."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    if "pytest" in request:
        return int(pytest.main([*PYTEST_OPTIONS, *request["pytest"]]))
    return judge_of_grants.main(run_file=Path(request["least_privilege"]))


def main() -> None:
    for line in sys.stdin:
        pid = os.fork()
        if pid == 0:
            status = 3
            try:
                status = judge(json.loads(line))
            finally:
                os._exit(status)
        _, wait_status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(wait_status), flush=True)


if __name__ == "__main__":
    main()
