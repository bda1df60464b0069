"""python -m local_stack.sam_local [BUILD_DIR]: one template per API for `sam local start-api -t`,
written beside the template that `sam build` made (default .aws-sam/build).

SAM CLI keeps one route per method and path across all the APIs of a template (`GET /orders` of the
storefront or of the back office, silently) and has no flag to choose an API, so each API is served
from a copy with only its own routes, as `make dev` serves them.
"""

import sys
from pathlib import Path

from samcli.yamlhelper import yaml_dump, yaml_parse

from local_stack.server import APIS, only_api
from local_stack.template import PROJECT_ROOT


def write_api_templates(build_dir: Path) -> list[Path]:
    source = yaml_parse((build_dir / "template.yaml").read_text())
    written = []
    for logical_id, _, _ in APIS:
        path = build_dir / f"{logical_id}.yaml"
        path.write_text(yaml_dump(only_api(source, logical_id)))
        written.append(path)
    return written


if __name__ == "__main__":
    build_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else PROJECT_ROOT / ".aws-sam" / "build"
    for path in write_api_templates(build_dir):
        print(path)
