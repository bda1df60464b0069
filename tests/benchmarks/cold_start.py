"""Cold start: CPU time to import and initialise each function's module in a fresh interpreter,
against a bare `import boto3; boto3.client("dynamodb")` measured the same way, side by side.
Target (ARCHITECTURE.md): at most 1.3x.

Both run in a virtual environment shaped like the Lambda runtime: the dependencies layer's packages
and boto3, nothing else (the development environment also has awscrt and pyOpenSSL, which boto3
would import, and which Lambda does not have).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from local_stack.functions import FunctionSpec
from local_stack.template import PROJECT_ROOT

RUNTIME_VENV = PROJECT_ROOT / ".aws-sam" / "bench-runtime"


def runtime_python() -> Path:
    """The Lambda-like interpreter, created on first use (uv, pinned by requirements/dev.txt)."""
    python = RUNTIME_VENV / "bin" / "python"
    if not python.exists():
        uv = Path(sys.executable).with_name("uv")
        subprocess.run([str(uv), "venv", "--quiet", "--python", sys.executable, str(RUNTIME_VENV)], check=True)
        requirements = PROJECT_ROOT / "requirements"
        subprocess.run(
            [
                str(uv),
                "pip",
                "install",
                "--quiet",
                "--python",
                str(python),
                "-r",
                str(requirements / "runtime.in"),
                "boto3",
                "-c",
                str(requirements / "dev.txt"),
            ],
            check=True,
        )
    return python


_MEASURE = """
import json, resource, sys
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
start = cpu()
{body}
print(json.dumps(cpu() - start))
"""
BASELINE = 'import boto3\nboto3.client("dynamodb")'
RUNS = 7


def cpu_seconds(body: str, environment: dict[str, str], path: list[str]) -> float:
    """Median CPU seconds of `body` in fresh interpreters (bytecode cached, as in a Lambda image)."""
    env = {**os.environ, **environment, "PYTHONPATH": os.pathsep.join(path)}
    python = str(runtime_python())
    samples = []
    for _ in range(RUNS):
        output = subprocess.run(
            [python, "-c", _MEASURE.format(body=body)], env=env, capture_output=True, text=True, check=True
        ).stdout
        samples.append(float(output.strip().splitlines()[-1]))
    return statistics.median(samples)


def measure(functions: dict[str, FunctionSpec]) -> dict[str, dict[str, float]]:
    aws = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
    results = {}
    for logical_id, spec in sorted(functions.items()):
        module = spec.handler.rsplit(".", 1)[0]
        path = [str(spec.code_dir), *map(str, spec.layer_dirs)]
        environment = {**aws, **spec.environment, "AWS_LAMBDA_FUNCTION_NAME": spec.name}
        baseline = cpu_seconds(BASELINE, aws, [])
        function = cpu_seconds(f"import {module}", environment, path)
        results[logical_id] = {
            "baseline_ms": baseline * 1000,
            "function_ms": function * 1000,
            "ratio": function / baseline,
        }
    return results


if __name__ == "__main__":
    print(json.dumps(measure({}), indent=2))
