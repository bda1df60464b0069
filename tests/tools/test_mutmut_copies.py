"""The copies of the project that `make mutation` runs mutmut in: what each target's copy holds and
links, how a kept copy is brought up to date, the wrapping that lets mutmut mutate a decorated route,
and functions started cold while mutmut learns what each test reaches."""

import json
import os
import subprocess
import textwrap
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from local_stack.cloudformation.template import PROJECT_ROOT
from support.instances import warm_instance
from tools.mutation import code, mutmut_wrapping
from tools.mutation.code import also_copy, kept_copy, module_files, prepare, targets
from tools.mutation.judging import workspace


def test_mutmut_copies_everything_but_the_linked_sources():
    files = [
        "Makefile",
        "layers/common/Makefile",
        "layers/common/orders_domain/pricing.py",
        "layers/dependencies/requirements.txt",
        "src/api/routers/orders.py",
        "src/api/storefront.py",
        "src/notify/notify.py",
    ]
    assert also_copy(files, ("layers/common/orders_domain",)) == [
        "Makefile",
        "layers/common/Makefile",
        "layers/dependencies",
        "src",
    ]
    assert also_copy(files, ("src/api/routers", "src/api/storefront.py")) == ["Makefile", "layers", "src/notify"]


def test_a_kept_copy_is_brought_up_to_date_and_keeps_what_mutmut_learned_in_it(tmp_path):
    root = workspace(tmp_path)
    (root / "template.yaml").write_text("the template as it was")
    (root / "mutants").mkdir()
    (root / "mutants" / "mutmut-stats.json").write_text("{}")
    (root / "no_longer_tracked.py").write_text("")
    manifest = tmp_path / "tracked-files"
    manifest.write_text(manifest.read_text() + "\nno_longer_tracked.py")
    before = time.time()

    assert workspace(tmp_path) == root

    assert (root / "template.yaml").read_bytes() == (PROJECT_ROOT / "template.yaml").read_bytes()
    assert (root / "template.yaml").stat().st_mtime >= int(before)  # newer than mutants made from the old one
    assert not (root / "no_longer_tracked.py").exists()
    assert (root / "mutants" / "mutmut-stats.json").read_text() == "{}"
    assert (root / ".venv").resolve() == (PROJECT_ROOT / ".venv").resolve()


def test_one_mutmut_run_holds_every_function_each_module_under_its_own_name():
    domain, functions, _ = targets(PROJECT_ROOT)
    assert domain.sources == ("layers/common/orders_domain", "layers/common/http_bodies")
    assert {"src/notify/notify.py", "src/payment/charge.py", "src/api/routers", "src/api/storefront.py"} <= set(
        functions.sources
    )
    assert "src/api/routers/orders.py" not in functions.sources  # the package is linked whole
    assert len({source.rsplit("/", 1)[1] for source in functions.sources}) == len(functions.sources)


def test_the_local_stack_is_mutated_in_its_pure_modules_only_under_the_names_the_tests_import(tmp_path):
    *_, local_stack = targets(PROJECT_ROOT)
    assert [(module, file) for module, file, _ in module_files(local_stack)] == [
        ("local_stack.apigateway.mapping_templates", "local_stack/apigateway/mapping_templates.py"),
        ("local_stack.cloudformation.intrinsics", "local_stack/cloudformation/intrinsics.py"),
        ("local_stack.lambda_runtime.streams", "local_stack/lambda_runtime/streams.py"),
    ]
    root = workspace(tmp_path)
    prepare(root, local_stack)
    assert not (root / "local_stack").is_symlink()  # no shim: it is at the root already
    assert not (root / "mutants" / "local_stack").exists()  # mutmut copies it there itself
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["mutmut"]
    assert config["source_paths"] == ["local_stack"]
    assert config["only_mutate"] == list(local_stack.only)


def test_a_kept_copy_starts_afresh_when_its_mutants_would_be_made_otherwise(tmp_path, monkeypatch):
    monkeypatch.setattr(code, "KEPT", tmp_path)
    [domain, *_] = targets(PROJECT_ROOT)
    mutants = kept_copy(domain) / "mutants"
    mutants.mkdir()
    (mutants / "mutmut-stats.json").write_text("{}")
    assert (kept_copy(domain) / "mutants" / "mutmut-stats.json").is_file()  # same wrapper, same pins

    monkeypatch.setattr(code, "mutants_made_by", lambda: "another wrapper of mutmut")
    assert not (kept_copy(domain) / "mutants").exists()
    assert (kept_copy(domain) / "template.yaml").is_file()


def test_two_functions_with_a_module_of_the_same_name_are_refused(tmp_path):
    for function in ("notify", "analytics"):
        (tmp_path / "src" / function).mkdir(parents=True)
        (tmp_path / "src" / function / "app.py").write_text("")
    with pytest.raises(ValueError, match=r"named app\.py"):
        targets(tmp_path)


def test_mutmut_copies_the_tests_afresh_into_a_kept_copy_and_the_shim_is_made_once(tmp_path):
    [domain] = [target for target in targets(PROJECT_ROOT) if target.name == "orders_domain"]
    root = workspace(tmp_path)
    deleted_test = root / "mutants" / "tests" / "unit" / "test_deleted.py"
    deleted_test.parent.mkdir(parents=True)
    deleted_test.write_text("def test_gone(): pass")

    prepare(root, domain)
    prepare(root, domain)

    assert not deleted_test.exists()
    assert (root / "orders_domain").resolve() == (root / "layers/common/orders_domain").resolve()
    assert (root / "mutants/layers/common/orders_domain").resolve() == (root / "mutants/orders_domain").resolve()
    assert (root / "pyproject.toml").read_text().count("[tool.mutmut]") == 1


ROUTES = textwrap.dedent("""\
    import functools

    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

    app = APIGatewayRestResolver()


    @app.get("/orders/<order_id>")
    def get_order(order_id: str) -> dict:
        return {"order_id": order_id, "status": "NEW"}


    @functools.cache
    def catalog() -> dict:
        return {"sku-1": 10}
""")


MUTMUT_PYTHON = PROJECT_ROOT / ".venv-mutation" / "bin" / "python"


def patched_mutmut(script: str, *arguments: str, **options: Any) -> str:
    """What `script` prints, run by mutmut's own environment (make test installs it) with the path of
    tools.mutation.mutmut_wrapping as its first argument."""
    assert MUTMUT_PYTHON.exists(), "mutmut's environment is missing: make test installs it"
    command = [MUTMUT_PYTHON, "-P", "-c", script, mutmut_wrapping.__file__, *arguments]
    return subprocess.run(command, capture_output=True, text=True, check=True, **options).stdout


MUTATE = """
import json, runpy, sys
runpy.run_path(sys.argv[1])["patch_mutmut"]()
from mutmut.mutation.file_mutation import mutate_file_contents
mutated = mutate_file_contents("routes.py", sys.stdin.read())
print(json.dumps({"code": mutated.code, "mutants": mutated.mutant_names}))
"""


SERVE = """
import json, sys
from mutmut.mutation.trampoline import set_mutant_under_test
import routes
event = {"httpMethod": "GET", "path": "/orders/o-1", "headers": {}, "requestContext": {}}
bodies = []
for mutant in ["", *sys.argv[1:]]:
    set_mutant_under_test(f"routes.{mutant}" if mutant else "")
    bodies.append(json.loads(routes.app.resolve(event, None)["body"]))
print(json.dumps([len(routes.app._static_routes) + len(routes.app._dynamic_routes), *bodies]))
"""


def test_mutmut_mutates_a_route_and_registers_it_once_but_leaves_a_cached_function_alone(tmp_path):
    """tools.mutation.mutmut_wrapping in mutmut's own environment (make test installs it): the route's
    body is mutated; its copies carry no decorator, so the route is registered once, and calls
    reach the original or the active mutant through the trampoline."""
    mutated = json.loads(patched_mutmut(MUTATE, input=ROUTES))
    assert len(mutated["mutants"]) > 3
    assert mutated["mutants"] == [f"x_get_order__mutmut_{n}" for n in range(1, len(mutated["mutants"]) + 1)]
    assert mutated["code"].count('@app.get("/orders/<order_id>")') == 1
    assert "def x_get_order__mutmut_orig(order_id: str) -> dict:" in mutated["code"]
    assert "x_catalog__mutmut" not in mutated["code"]
    (tmp_path / "routes.py").write_text(mutated["code"])
    served = subprocess.run(
        [MUTMUT_PYTHON, "-c", SERVE, *mutated["mutants"]], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout
    routes, original, *mutants = json.loads(served)
    assert routes == 1
    assert original == {"order_id": "o-1", "status": "NEW"}
    assert all(body != original for body in mutants)  # each mutant is what the route runs while active


RUN_TESTS = """
import json, os, runpy, sys
runpy.run_path(sys.argv[1])["patch_mutmut"]()
from mutmut.runners.harness import PytestRunner
from mutmut.state import state
state().duration_by_test.update({"test_order.py::test_slow": 30.0, "test_order.py::test_fast": 0.1})
tests = ["test_order.py::test_slow", "test_order.py::test_unknown", "test_order.py::test_fast"]
exit_codes = []
for mutant in sys.argv[2:]:
    os.environ["MUTANT"] = mutant
    exit_codes.append(PytestRunner().run_tests(mutant_name=mutant, tests=tests))
print(json.dumps(exit_codes))
"""

ORDER_TESTS = """
import os
from pathlib import Path

def ran(name):
    with Path("ran").open("a") as log:
        log.write(os.environ["MUTANT"] + " " + name + "\\n")
    assert name not in os.environ["FAILING"].split(), name

def test_slow(): ran("slow")
def test_unknown(): ran("unknown")
def test_fast(): ran("fast")
"""


def run_tests_of(project: Path, *mutants: str, failing: str) -> list[str]:
    """The tests that mutmut's patched runner ran for each mutant in turn ("mutant test"), with
    `failing` the tests that fail."""
    output = patched_mutmut(RUN_TESTS, *mutants, cwd=project, env={**os.environ, "FAILING": failing})
    assert json.loads(output.splitlines()[-1]) == [1] * len(mutants)  # pytest's exit code: each was killed
    return (project / "mutants" / "ran").read_text().splitlines()


@pytest.fixture
def mutmut_project(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.mutmut]\nsource_paths = ["mutants"]\n')
    (tmp_path / "mutants").mkdir()
    (tmp_path / "mutants" / "test_order.py").write_text(ORDER_TESTS)
    return tmp_path


def test_a_mutants_tests_run_fastest_first_and_the_first_failure_ends_them(mutmut_project):
    """mutmut hands a mutant's tests over in a set's order: sorted by their clean-run duration, the
    mutant that a quick test kills is not judged by a slow one first (a test it has no duration for,
    added since, counts as quick)."""
    assert run_tests_of(mutmut_project, "shop.x_total__mutmut_1", failing="slow unknown fast") == [
        "shop.x_total__mutmut_1 unknown"
    ]


def test_the_test_that_killed_a_sibling_mutant_runs_first(mutmut_project):
    """The slow test that alone killed a mutant of a function runs first for its other mutants, and
    then for the other functions of its module; elsewhere the order stays fastest first."""
    ran = run_tests_of(
        mutmut_project,
        "shop.x_total__mutmut_1",
        "shop.x_total__mutmut_2",
        "shop.x_tax__mutmut_1",
        "billing.x_charge__mutmut_1",
        failing="slow",
    )
    assert ran == [
        "shop.x_total__mutmut_1 unknown",
        "shop.x_total__mutmut_1 fast",
        "shop.x_total__mutmut_1 slow",
        "shop.x_total__mutmut_2 slow",
        "shop.x_tax__mutmut_1 slow",
        "billing.x_charge__mutmut_1 unknown",
        "billing.x_charge__mutmut_1 fast",
        "billing.x_charge__mutmut_1 slow",
    ]


def test_while_mutmut_learns_what_each_test_reaches_every_test_starts_its_functions_cold(stack, monkeypatch):
    """What a handler runs at import (its settings, its repositories' constructors) must count as
    reached by every test that invokes the function, not only by the session's first one (whose
    warm instance the others reuse): else its mutants would be judged by that one test alone."""
    spec = stack.functions["ProcessOrderFunction"]
    assert warm_instance(spec) is warm_instance(spec)  # warm from test to test, as deployed
    monkeypatch.setenv("MUTANT_UNDER_TEST", "stats")  # what mutmut sets while it learns
    assert warm_instance(spec) is not warm_instance(spec)
