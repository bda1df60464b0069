"""`sam build` as the build tests run it: the project's SAM CLI, this interpreter's python3.13 on PATH,
no telemetry; about a minute for the whole application (PyPI, or the machine's index, needed)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

from local_stack.cloudformation.template import PROJECT_ROOT, REGION, TEMPLATE

SAM = Path(sys.executable).with_name("sam")
HOST_ARCHITECTURE = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}[
    platform.machine().lower()
]
OTHER_ARCHITECTURE = {"x86_64": "arm64", "arm64": "x86_64"}[HOST_ARCHITECTURE]


def run_sam(arguments: list[str]) -> None:
    environment = {**os.environ, "AWS_DEFAULT_REGION": REGION, "SAM_CLI_TELEMETRY": "0"}
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"  # python3.13
    result = subprocess.run(
        [str(SAM), *arguments], capture_output=True, text=True, cwd=PROJECT_ROOT, env=environment, check=False
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def sam_build(build_dir: Path, architecture: str, *resources: str) -> Path:
    run_sam(
        ["build", *resources, "--parallel", "--template-file", str(TEMPLATE), "--build-dir", str(build_dir),
         "--cache-dir", str(build_dir.with_name(build_dir.name + "-cache")), "--no-cached",
         "--parameter-overrides", f"Architecture={architecture}"]
    )  # fmt: skip
    return build_dir
