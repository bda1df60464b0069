"""python -m local_stack.sam_local_templates [BUILD_DIR]: what `sam local start-api -t` serves, beside the
application that `sam build` made (default .aws-sam/build): the sam-local authorizer layer, built into
BUILD_DIR-sam-local, and one template per API that adds it to the API's functions.

SAM CLI keeps one route per method and path across all the APIs of a template (`GET /orders` of the
storefront or of the back office, silently) and has no flag to choose an API, so each API is served
from a copy with only its own routes, as `make dev` serves them. SAM CLI also runs no Cognito or JWT
authorizer: in those copies, and only there, the API's functions are wrapped by the layer's handler,
which checks the token as the authorizer would (layers/sam-local/). What `sam deploy` ships holds
neither the layer nor its JWT libraries.
"""

import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from samcli.yamlhelper import yaml_dump

from local_stack.apigateway.sam_cli import APIS, api_of, only_api
from local_stack.cloudformation.template import PROJECT_ROOT, read_source

ARCHITECTURE = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"  # run natively
AUTHORIZER_LAYER = "SamLocalAuthorizerLayer"
AUTHORIZER_SOURCE = PROJECT_ROOT / "layers" / "sam-local"
AUTHORIZER_HANDLER = "sam_local_authorizer.handler"


def authorizer_layer_build(build_dir: Path, architecture: str = ARCHITECTURE) -> tuple[list[str], Path]:
    """The `sam build` command of the layer alone (its template written beside the build) and the
    folder it builds the layer into."""
    layer_build_dir = build_dir.with_name(f"{build_dir.name}-sam-local")
    template = build_dir.with_name(f"{build_dir.name}-sam-local.yaml")
    layer = {
        "Type": "AWS::Serverless::LayerVersion",
        "Properties": {"ContentUri": str(AUTHORIZER_SOURCE), "CompatibleRuntimes": ["python3.13"]},
        "Metadata": {"BuildMethod": "python3.13", "BuildArchitecture": architecture},
    }
    document = {"Transform": "AWS::Serverless-2016-10-31", "Resources": {AUTHORIZER_LAYER: layer}}
    template.write_text(yaml_dump(document))
    command = ["sam", "build", "--template-file", str(template), "--build-dir", str(layer_build_dir)]
    return command, layer_build_dir / AUTHORIZER_LAYER


def with_local_authorizer(template: dict[str, Any], api: str, layer: Path) -> dict[str, Any]:
    """The API's functions wrapped by the sam-local authorizer layer, which reads the pool and app
    client from variables that --env-vars sets (SAM CLI sets only variables the template declares)."""
    resources = template["Resources"]
    resources[AUTHORIZER_LAYER] = {
        "Type": "AWS::Serverless::LayerVersion",
        "Properties": {"ContentUri": str(layer), "CompatibleRuntimes": ["python3.13"]},
    }
    for resource in resources.values():
        properties = resource.get("Properties", {})
        events = properties.get("Events", {}).values()
        if resource["Type"] != "AWS::Serverless::Function" or not any(api_of(event) == api for event in events):
            continue
        properties["Layers"] = [*properties.get("Layers", []), {"Ref": AUTHORIZER_LAYER}]
        variables = properties.setdefault("Environment", {}).setdefault("Variables", {})
        variables |= {
            "SAM_LOCAL_HANDLER": properties["Handler"],
            "USER_POOL_ID": {"Ref": "UserPool"},
            "USER_POOL_CLIENT_ID": {"Ref": "UserPoolClient"},
        }
        properties["Handler"] = AUTHORIZER_HANDLER
    return template


def write_api_templates(build_dir: Path, layer: Path) -> list[Path]:
    source = read_source(build_dir / "template.yaml")  # `sam build` keeps the loops
    written = []
    for logical_id, _, _ in APIS:
        path = build_dir / f"{logical_id}.yaml"
        path.write_text(yaml_dump(with_local_authorizer(only_api(source, logical_id), logical_id, layer)))
        written.append(path)
    return written


if __name__ == "__main__":
    build_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else PROJECT_ROOT / ".aws-sam" / "build"
    command, layer = authorizer_layer_build(build_dir)
    subprocess.run(command, check=True, cwd=PROJECT_ROOT)
    for path in write_api_templates(build_dir, layer):
        print(path)
