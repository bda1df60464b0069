"""make sam-local-check: `sam local` (Docker) proven against `make dev`, offline.

1. Docker Engine (docker.sh) and the Lambda-like python3.13 base image (build_image.sh, cached by recipe).
2. `sam build` for this machine's architecture; the sam-local authorizer layer and one template per API
   that adds it (python -m local_stack.sam_local).
3. `make dev` (demo data; moto and the payment provider listening on loopback and on the Docker
   bridge's address, where the containers reach the host: never on every interface).
4. `sam local invoke` of every function with its sample of events/: each answer must be what
   tests/support/samples.py says (the same list the e2e suite invokes through make dev's Lambda API).
5. `sam local start-api` for each API and the README's quick start through it: 401 without a token,
   403 for a customer in the back office, stock set by staff, an order placed through the storefront
   container that make dev's workflow takes to CONFIRMED, read back through the container.

Nothing reaches AWS: the containers' SDK goes to make dev's moto (AWS_ENDPOINT_URL from its
--env-vars file) and SAM CLI is told not to pull images. Prints the timings of each step.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from local_stack.demo import CUSTOMER, STAFF
from local_stack.listen import docker_bridge_address
from local_stack.sam_local import ARCHITECTURE, authorizer_layer_build, write_api_templates
from local_stack.server import free_port
from local_stack.template import PROJECT_ROOT
from local_stack.token import id_token
from support.local_process import LocalStackProcess
from support.samples import SAMPLES

HERE = Path(__file__).resolve().parent
WORK = Path(os.environ.get("SAM_LOCAL_CHECK_DIR", Path(tempfile.gettempdir()) / "sam-local-check"))
SAM = str(PROJECT_ROOT / ".venv" / "bin" / "sam")
UNAUTHORIZED = {"message": "Unauthorized"}
ENVIRONMENT = {
    **os.environ,
    # sam from .venv; `sam build` needs a python3.13 on PATH
    "PATH": os.pathsep.join(
        [str(PROJECT_ROOT / ".venv" / "bin"), str(Path(sys.executable).parent), os.environ["PATH"]]
    ),
    "SAM_CLI_TELEMETRY": "0",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "local",  # handed to the containers: never real credentials
    "AWS_SECRET_ACCESS_KEY": "local",
}


class CheckFailedError(Exception):
    pass


@contextmanager
def step(name: str, timings: dict[str, float]) -> Iterator[None]:
    """Print a step's name and record how long it took."""
    print(f"sam-local-check: {name}", flush=True)
    started = time.monotonic()
    yield
    timings[name] = time.monotonic() - started


def run(arguments: list[str], log: Path, timeout: float) -> str:
    with log.open("w") as output:
        result = subprocess.run(  # noqa: S603 - our own scripts and SAM CLI, with our arguments
            arguments,
            cwd=PROJECT_ROOT,
            env=ENVIRONMENT,
            stdout=subprocess.PIPE,
            stderr=output,
            text=True,
            timeout=timeout,
            check=False,
        )
    if result.returncode != 0:
        raise CheckFailedError(
            f"{' '.join(arguments[:4])} exited {result.returncode}: see {log}\n{result.stdout[-2000:]}"
        )
    return result.stdout


def sam_options(template: Path, local: LocalStackProcess) -> list[str]:
    """What the README's `sam local` commands pass: the project's samconfig.toml (add_host; SAM CLI
    looks beside -t otherwise), the architecture, make dev's --env-vars; plus no image pulls here."""
    return [
        "-t", str(template), "--config-file", str(PROJECT_ROOT / "samconfig.toml"),
        "--parameter-overrides", f"Architecture={ARCHITECTURE}",
        "--env-vars", str(local.env_vars_file), "--skip-pull-image",
    ]  # fmt: skip


def invoke_every_sample(build: Path, local: LocalStackProcess) -> list[str]:
    failures = []
    for number, sample in enumerate(SAMPLES):
        log = WORK / f"invoke-{number:02d}-{sample.function}.log"
        command = [SAM, "local", "invoke", *sam_options(build / "template.yaml", local), sample.function]
        output = run([*command, "-e", f"events/{sample.event}"], log, timeout=300)
        answer = json.loads(output.strip().splitlines()[-1])
        problem = (("errorType" in answer) != sample.fails and json.dumps(answer)) or sample.mismatch(answer)
        print(f"  {sample.function} -e events/{sample.event}: {problem or 'ok'}", flush=True)
        if problem:
            failures.append(f"{sample.function} ({sample.event}): {problem}")
    return failures


@contextmanager
def start_api(template: Path, local: LocalStackProcess) -> Iterator[str]:
    port = free_port()
    log = WORK / f"start-api-{template.stem}.log"
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603 - SAM CLI with our arguments
            [SAM, "local", "start-api", *sam_options(template, local), "--port", str(port)],
            cwd=PROJECT_ROOT, env=ENVIRONMENT, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 180
            while not _answers(url):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise CheckFailedError(f"sam local start-api did not start: see {log}")
                time.sleep(1)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=60)


def _answers(url: str) -> bool:
    try:
        requests.get(url, timeout=2)
    except requests.ConnectionError:
        return False
    return True


def expect(label: str, response: requests.Response, status: int, body: Mapping[str, object] | None = None) -> None:
    answer = response.json() if response.content else None
    print(f"  {label}: {response.status_code}", flush=True)
    if response.status_code != status or (body is not None and answer != body):
        raise CheckFailedError(
            f"{label}: expected {status} {body or ''}, got {response.status_code} {response.text[:500]}"
        )


def quick_start(storefront: str, back_office: str, local: LocalStackProcess) -> None:
    """The README's quick start, through the two `sam local start-api` servers."""
    customer = id_token(local.outputs, CUSTOMER.email, CUSTOMER.name, staff=False)
    staff = id_token(local.outputs, STAFF.email, STAFF.name, staff=True)
    as_customer, as_staff = {"Authorization": f"Bearer {customer}"}, {"Authorization": f"Bearer {staff}"}
    expect("storefront GET /orders, no token", requests.get(f"{storefront}/orders", timeout=120), 401, UNAUTHORIZED)
    wrong = {"Authorization": f"Bearer {customer[:-8]}AAAAAAAA"}
    expect(
        "storefront GET /orders, bad signature", requests.get(f"{storefront}/orders", headers=wrong, timeout=60), 401
    )
    expect(
        "back office GET /orders, customer",
        requests.get(f"{back_office}/orders", headers=as_customer, timeout=120),
        403,
    )
    stock = {"quantity": 5, "price": 19.99}
    stocked = requests.put(f"{back_office}/inventory/widget-1", json=stock, headers=as_staff, timeout=60)
    expect("back office PUT /inventory/widget-1, staff", stocked, 200)
    order: dict[str, Any] = {"items": [{"product_id": "widget-1", "quantity": 2}], "payment_method": "pm_card_visa"}
    placed = requests.post(
        f"{storefront}/orders", json=order, headers=as_customer | {"Idempotency-Key": "sam-local-check"}, timeout=60
    )
    expect("storefront POST /orders, customer", placed, 202)
    order_url = f"{storefront}/orders/{placed.json()['order_id']}"
    deadline = time.monotonic() + 120
    while (status := requests.get(order_url, headers=as_customer, timeout=60).json().get("status")) != "CONFIRMED":
        if time.monotonic() > deadline:
            raise CheckFailedError(f"order {placed.json()['order_id']} is {status}, not CONFIRMED, after 120 s")
        time.sleep(1)
    print(f"  storefront GET /orders/{placed.json()['order_id']}: CONFIRMED", flush=True)


def main() -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    try:
        with step("Docker Engine", timings):
            run([str(HERE / "docker.sh")], WORK / "docker.log", timeout=900)
        with step("base image (built once per recipe)", timings):
            run([str(HERE / "build_image.sh")], WORK / "image.log", timeout=1800)
        build = WORK / "build"
        with step(f"sam build (Architecture={ARCHITECTURE})", timings):
            run(
                [SAM, "build", "--build-dir", str(build), "--cache-dir", str(WORK / "cache"), "--cached",
                 "--parameter-overrides", f"Architecture={ARCHITECTURE}"],
                WORK / "build.log", timeout=1800,
            )  # fmt: skip
            command, layer = authorizer_layer_build(build)
            run([*command, "--cached", "--cache-dir", str(WORK / "cache-sam-local")], WORK / "build-sam-local.log", 900)
            write_api_templates(build, layer)
        local = LocalStackProcess(WORK, moto_host=docker_bridge_address())
        try:
            with step("make dev (demo data)", timings):
                local.wait_until_ready(timeout=180)
            with step(f"sam local invoke x {len(SAMPLES)}", timings):
                failures = invoke_every_sample(build, local)
            if failures:
                raise CheckFailedError("samples that did not get their answer:\n  " + "\n  ".join(failures))
            with (
                step("sam local start-api: the quick start", timings),
                start_api(build / "StorefrontApi.yaml", local) as storefront,
                start_api(build / "BackOfficeApi.yaml", local) as back_office,
            ):
                quick_start(storefront, back_office, local)
        finally:
            local.stop()
    except (CheckFailedError, subprocess.TimeoutExpired, TimeoutError, RuntimeError) as failure:
        print(f"sam-local-check: FAILED: {failure}", file=sys.stderr)
        return 1
    finally:
        for name, seconds in timings.items():
            print(f"  {seconds:7.1f} s  {name}")
    print("sam-local-check: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
