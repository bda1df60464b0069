"""`sam build` ships bytecode: every module of the layers and of each function has an unchecked-hash
CPython 3.13 .pyc that matches its source, and an interpreter importing from the built folders (as
Lambda does from a read-only /opt and /var/task) loads those pycs rather than compiling the sources.

The build runs here (tests/build/conftest.py: about a minute, PyPI needed), for this machine's
architecture so that the binary wheels import; the dependencies layer is also built for the other
architecture, whose sources must match the same bytecode layer."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from local_stack.cloudformation.template import REGION
from support.sam_build import OTHER_ARCHITECTURE, sam_build

UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, check_source off
# (built folder holding the .py files, built folder holding their .pyc files)
LAYERS = [
    ("DependenciesLayer/python", "DependenciesBytecodeLayer/python"),
    ("CommonLayer/python", "CommonLayer/python"),
]

pytestmark = [
    pytest.mark.skipif(sys.version_info[:2] != (3, 13), reason="the bytecode is CPython 3.13's"),
    pytest.mark.xdist_group("sam-build"),
]


def function_dirs(build: Path) -> list[Path]:
    return sorted(path for path in build.iterdir() if path.is_dir() and path.name.endswith("Function"))


def bytecode_of(source: Path, sources: Path, bytecode: Path) -> Path:
    return bytecode / Path(importlib.util.cache_from_source(str(source))).relative_to(sources)


def problems(sources: Path, bytecode: Path) -> list[str]:
    """What is wrong with the pycs of every .py under sources (pycs under bytecode), and stray pycs."""
    found = []
    for source in sorted(sources.rglob("*.py")):
        pyc = bytecode_of(source, sources, bytecode)
        if not pyc.is_file():
            found.append(f"no {pyc.relative_to(bytecode)}")
            continue
        header = pyc.read_bytes()[:16]
        if header[:4] != importlib.util.MAGIC_NUMBER:
            found.append(f"{pyc.relative_to(bytecode)}: not CPython 3.13 bytecode")
        elif int.from_bytes(header[4:8], "little") != UNCHECKED_HASH:
            found.append(f"{pyc.relative_to(bytecode)}: flags {header[4:8].hex()}, not unchecked-hash")
        elif header[8:16] != importlib.util.source_hash(source.read_bytes()):
            found.append(f"{pyc.relative_to(bytecode)}: compiled from another source")
    for pyc in sorted(bytecode.rglob("*.pyc")):
        source = sources / pyc.parent.parent.relative_to(bytecode) / (pyc.name.split(".", 1)[0] + ".py")
        if pyc.parent.name != "__pycache__" or not source.is_file() or bytecode_of(source, sources, bytecode) != pyc:
            found.append(f"stray {pyc.relative_to(bytecode)}")
    return found


@pytest.mark.parametrize(("sources", "bytecode"), LAYERS, ids=["dependencies", "common"])
def test_every_module_of_the_layers_has_its_unchecked_hash_pyc(build, sources, bytecode):
    assert len(list((build / sources).rglob("*.py"))) > 20
    assert problems(build / sources, build / bytecode) == []


def test_every_module_of_every_function_has_its_unchecked_hash_pyc(build):
    assert len(function_dirs(build)) >= 20
    for function in function_dirs(build):
        assert list(function.rglob("*.py")), function.name
        assert problems(function, function) == [], function.name


def test_the_bytecode_layer_holds_nothing_but_bytecode(build):
    files = [path for path in (build / "DependenciesBytecodeLayer").rglob("*") if path.is_file()]
    assert files
    assert [path for path in files if path.suffix != ".pyc"] == []


def test_the_dependencies_of_the_other_architecture_match_the_same_bytecode(build, tmp_path):
    """The bytecode layer is compiled from one architecture's wheels; their .py files must be the
    same as those of the wheels that SAM CLI installs for the other."""
    other = sam_build(tmp_path / "build", OTHER_ARCHITECTURE, "DependenciesLayer")
    binaries = {path.name for path in (other / "DependenciesLayer").rglob("*.so")}
    assert any(OTHER_ARCHITECTURE.replace("arm64", "aarch64") in name for name in binaries)
    assert problems(other / "DependenciesLayer/python", build / "DependenciesBytecodeLayer/python") == []


@pytest.mark.parametrize(("function", "module"), [("StorefrontFunction", "storefront"), ("NotifyFunction", "notify")])
def test_a_cold_import_loads_the_shipped_bytecode(build, tmp_path, function, module):
    """Layers merged into one folder as Lambda merges them into /opt, the function's folder first
    on sys.path, the runtime's boto3 (this environment's site-packages) last; -B: nothing written."""
    opt = tmp_path / "opt"
    for layer in ("DependenciesLayer", "DependenciesBytecodeLayer", "CommonLayer"):
        shutil.copytree(build / layer, opt, dirs_exist_ok=True)
    code = build / function
    runtime = next(Path(path) for path in sys.path if path.endswith("site-packages"))
    environment = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": os.pathsep.join([str(code), str(opt / "python"), str(runtime)]),
        "AWS_DEFAULT_REGION": REGION,
        **{name: name.lower().replace("_", "-") for name in ("USERS_TABLE", "INVENTORY_TABLE", "ORDERS_TABLE")},
        "IDEMPOTENCY_TABLE": "idempotency",
        "ORDER_RECEIVED_TOPIC_ARN": f"arn:aws:sns:{REGION}:123456789012:order-received",
    }
    result = subprocess.run(
        [sys.executable, "-B", "-v", "-c", f"import {module}"],
        capture_output=True, text=True, env=environment, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    # -v: "code object from '<pyc>'" for bytecode it loaded, "code object from <py>" for a source it compiled
    loaded = re.findall(r"^# code object from '?([^'\n]+?)'?$", result.stderr, flags=re.MULTILINE)
    ours = [path for path in loaded if path.startswith((str(code), str(opt)))]
    assert len(ours) > 50
    assert [path for path in ours if not path.endswith(".cpython-313.pyc")] == []
