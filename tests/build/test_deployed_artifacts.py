"""What `sam deploy` ships holds nothing that only `sam local` needs: no sam-local authorizer (the
token check that stands in for API Gateway's authorizers under `start-api`) and none of its libraries
(PyJWT, cryptography and what they bring), in any function or layer of the build. The sam-local
templates still get them, from a layer built apart (local_stack/sam_local_templates.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from samcli.yamlhelper import yaml_parse

from local_stack.cloudformation.template import read_source
from local_stack.sam_local_templates import AUTHORIZER_LAYER, authorizer_layer_build, write_api_templates
from support.sam_build import HOST_ARCHITECTURE, run_sam

# Top-level names (modules, packages, their .dist-info) that only the sam-local authorizer needs.
SAM_LOCAL_ONLY = {
    "sam_local",
    "sam_local_authorizer",
    "jwt",
    "pyjwt",
    "cryptography",
    "cffi",
    "_cffi_backend",
    "pycparser",
}

pytestmark = [
    pytest.mark.skipif(sys.version_info[:2] != (3, 13), reason="the build is CPython 3.13's"),
    pytest.mark.xdist_group("sam-build"),
]


def top_level_name(name: str) -> str:
    """`PyJWT-2.15.1.dist-info` -> pyjwt, `_cffi_backend.cpython-313-x86_64-linux-gnu.so` -> _cffi_backend."""
    return name.split("-", 1)[0].split(".", 1)[0].lower()


def sam_local_only(artifact: Path) -> list[str]:
    """What could be imported from the artifact under a sam-local-only name: its top level (a layer's
    python/, as Lambda puts it on sys.path, or a function's folder) and that level's bytecode."""
    root = artifact / "python" if (artifact / "python").is_dir() else artifact
    entries = [*root.iterdir(), *(root / "__pycache__").glob("*")]
    return sorted(str(path.relative_to(root)) for path in entries if top_level_name(path.name) in SAM_LOCAL_ONLY)


def test_no_function_or_layer_of_the_deployed_build_holds_sam_local_code_or_libraries(build):
    artifacts = [path for path in build.iterdir() if path.is_dir()]
    assert {"DependenciesLayer", "CommonLayer", "StorefrontFunction", "BackOfficeFunction"} <= {
        p.name for p in artifacts
    }
    assert (build / "DependenciesLayer/python/pydantic").is_dir()  # the layer holds what it should

    assert {artifact.name: sam_local_only(artifact) for artifact in artifacts} == {p.name: [] for p in artifacts}
    built = read_source(build / "template.yaml")["Resources"]
    assert AUTHORIZER_LAYER not in built
    assert not [name for name, resource in built.items() if "sam_local" in str(resource.get("Properties"))]


def test_the_sam_local_templates_get_the_authorizer_layer_with_its_libraries(build, tmp_path):
    command, layer = authorizer_layer_build(tmp_path / "build", HOST_ARCHITECTURE)
    run_sam(command[1:])  # `sam build` of the layer alone, as the sam-local check runs it

    found = sam_local_only(layer)
    assert {top_level_name(name) for name in found} == SAM_LOCAL_ONLY - {"sam_local"}, found
    assert "sam_local_authorizer.py" in found
    for template in write_api_templates(build, layer):
        resources = yaml_parse(template.read_text())["Resources"]
        assert resources[AUTHORIZER_LAYER]["Properties"]["ContentUri"] == str(layer), template.name
