"""make test's `-n auto --dist loadgroup` keeps each xdist_group on one worker: the e2e tests of one
local stack share its server, the build tests one `sam build`. pytest 9.2 with pytest-xdist 3.8
silently stopped grouping (pytest-xdist#1386): this fails on a pin that does so again."""

import os
import re
import subprocess
import sys
import textwrap

import pytest

CONFTEST = """
import pytest

@pytest.hookimpl(tryfirst=True)  # as tests/e2e/conftest.py groups its tests: by the fixtures they use
def pytest_collection_modifyitems(items):
    for item in items:
        if "server" in item.fixturenames:
            item.add_marker(pytest.mark.xdist_group("server"))

@pytest.fixture(scope="session")
def server():
    return "one per worker that uses it"
"""
GROUPED_BY_CONFTEST = """
def test_a(server): pass
def test_b(server): pass
def test_c(server): pass
def test_d(server): pass
"""
GROUPED_BY_MODULE = """
import pytest

pytestmark = pytest.mark.xdist_group("build")  # as tests/build/ marks its modules

def test_e(): pass
def test_f(): pass
def test_g(): pass
def test_h(): pass
"""
UNGROUPED = "\n".join(f"def test_{n}(): pass" for n in range(8))


@pytest.mark.slow  # two pytest workers started: a few seconds
def test_each_group_runs_on_one_worker_and_the_rest_on_both(tmp_path):
    (tmp_path / "conftest.py").write_text(CONFTEST)
    for name, body in [
        ("test_server", GROUPED_BY_CONFTEST),
        ("test_build", GROUPED_BY_MODULE),
        ("test_other", UNGROUPED),
    ]:
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))
    # Only xdist loaded: the other installed plugins (schemathesis', hypothesis'...) cost seconds a process.
    command = [sys.executable, "-m", "pytest", "-p", "xdist", "-n", "2", "--dist", "loadgroup", "-v"]
    environment = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    result = subprocess.run(
        [*command, str(tmp_path)], capture_output=True, text=True, cwd=tmp_path, env=environment, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    ran = re.findall(r"^\[(gw\d)\] .*PASSED (\S+)", result.stdout, flags=re.MULTILINE)
    workers: dict[str, set[str]] = {}
    for worker, nodeid in ran:
        group = nodeid.rsplit("@", 1)[1] if "@" in nodeid else "none"
        workers.setdefault(group, set()).add(worker)
    assert len(ran) == 16
    assert {group: len(used) for group, used in workers.items() if group != "none"} == {"server": 1, "build": 1}
    assert sum(1 for _, nodeid in ran if "@" not in nodeid) == 8
