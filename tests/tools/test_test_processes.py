"""What each process of `make test` loads: xdist's controller only hands the tests out to its
workers, so tests/conftest.py keeps it from importing moto and the stack (seconds before it starts
them); every process that runs tests gets the fixtures (support/fixtures.py)."""

import json
import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]

PROBE = """
import json, sys
from types import SimpleNamespace

import conftest

heavy = ("moto", "boto3", "local_stack.cloudformation.deploy")
loaded_by_conftest = sorted(name for name in heavy if name in sys.modules)
plugins = {}
processes = (("controller", 2, False), ("worker", 2, True), ("alone", None, False), ("-n 0", 0, False))
for process, numprocesses, worker in processes:
    loaded = plugins[process] = []
    config = SimpleNamespace(
        option=SimpleNamespace(numprocesses=numprocesses),
        pluginmanager=SimpleNamespace(import_plugin=loaded.append),
        **({"workerinput": {"workerid": "gw0"}} if worker else {}),
    )
    conftest.pytest_configure(config)
print(json.dumps({"loaded_by_conftest": loaded_by_conftest, "plugins": plugins}))
"""


def test_the_controller_imports_no_fixture_and_every_process_that_runs_tests_does():
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join((str(TESTS), str(TESTS.parent)))}
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=environment, check=True)
    probe = json.loads(result.stdout)

    assert probe["loaded_by_conftest"] == []
    fixtures = ["support.fixtures"]
    assert probe["plugins"] == {"controller": [], "worker": fixtures, "alone": fixtures, "-n 0": fixtures}
