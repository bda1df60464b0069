"""make sam-local-check: `sam local` (Docker) proven against `make dev`, offline.

1. Docker Engine (docker.sh) and the Lambda-like python3.13 base image (build_image.sh, cached by recipe).
2. `make dev` (demo data; moto and the payment provider listening on loopback and on the Docker
   bridge's address, where the containers reach the host: never on every interface), and while it
   starts, `sam build` for this machine's architecture, the sam-local authorizer layer and one
   template per API that adds it (python -m local_stack.sam_local_templates).
3. Once make dev has written its --env-vars file, and while it makes its demo data, three `sam local`
   servers start:
   `start-lambda` and `start-api` for each API, with warm containers (LAZY, from samconfig.toml: a
   function's container is made at its first invocation and kept for the next ones).
4. Every function invoked with its sample of events/ through the one start-lambda endpoint (boto3's
   Lambda `invoke`, what `aws lambda invoke --endpoint-url` sends): each answer must be what
   tests/support/samples.py says (the same list the e2e suite invokes through make dev's Lambda API),
   an error (errorType) exactly where the sample expects one.
5. The README's quick start through the two start-api servers: 401 without a token or with a bad
   signature (the sam-local authorizer layer), 403 for a customer in the back office, stock set by
   staff, an order placed through the storefront container that make dev's workflow takes to
   CONFIRMED, read back through the container.

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
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import requests
from botocore.config import Config
from botocore.exceptions import BotoCoreError

from local_stack.cloudformation.template import PROJECT_ROOT
from local_stack.demo import CUSTOMER, STAFF
from local_stack.listen import docker_bridge_address, free_port
from local_stack.sam_local_templates import ARCHITECTURE, authorizer_layer_build, write_api_templates
from local_stack.token import id_token
from support.local_process import LocalStackProcess
from support.samples import SAMPLES, Sample

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

HERE = Path(__file__).resolve().parent
WORK = Path(os.environ.get("SAM_LOCAL_CHECK_DIR", Path(tempfile.gettempdir()) / "sam-local-check"))
SAM = str(PROJECT_ROOT / ".venv" / "bin" / "sam")
UNAUTHORIZED = {"message": "Unauthorized"}
ENVIRONMENT = {
    **os.environ,
    # `sam build` needs a python3.13 on PATH
    "PATH": os.pathsep.join(
        [str(PROJECT_ROOT / ".venv" / "bin"), str(Path(sys.executable).parent), os.environ["PATH"]]
    ),
    "SAM_CLI_TELEMETRY": "0",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "local",  # handed to the containers and to the Lambda client: never real credentials
    "AWS_SECRET_ACCESS_KEY": "local",
}
SERVER_START_SECONDS = 300  # make dev's demo data on a busy 2-core machine


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


def wait_for_env_vars(local: LocalStackProcess, timeout: float = 180) -> None:
    """Until make dev has written its --env-vars file (before its demo data: its moto is up then)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if local.process.poll() is not None:
            raise RuntimeError(f"local stack exited: {local.log()}")
        try:
            json.loads(local.env_vars_file.read_text())
        except (FileNotFoundError, json.JSONDecodeError):  # not yet, or half written
            time.sleep(0.2)
        else:
            return
    raise TimeoutError(f"local stack wrote no {local.env_vars_file.name} in {timeout}s: {local.log()}")


@contextmanager
def sam_server(command: str, template: Path, local: LocalStackProcess) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`sam local <command>` on a free loopback port, its output in WORK/<command>-<template>.log: its
    URL and process, at once (wait_until_answering waits for it); stopped on exit (SIGTERM: SAM CLI
    removes its containers)."""
    port = free_port()
    with (WORK / f"{command}-{template.stem}.log").open("w") as output:
        process = subprocess.Popen(  # noqa: S603 - SAM CLI with our arguments
            [SAM, "local", command, *sam_options(template, local), "--port", str(port)],
            cwd=PROJECT_ROOT, env=ENVIRONMENT, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            yield f"http://127.0.0.1:{port}", process
        finally:
            process.terminate()
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()  # its containers stay: `docker ps` shows them
                raise


def wait_until_answering(url: str, process: subprocess.Popen[bytes], started: float) -> None:
    """Until the server answers HTTP."""
    while not _answers(url):
        if process.poll() is not None or time.monotonic() > started + SERVER_START_SECONDS:
            raise CheckFailedError(f"the sam local server for {url} did not start: see its log in {WORK}")
        time.sleep(0.5)
    print(f"  {url} answering {time.monotonic() - started:.1f} s after start", flush=True)


def _answers(url: str) -> bool:
    try:
        requests.get(url, timeout=2)
    except requests.ConnectionError:
        return False
    return True


def lambda_client(url: str) -> LambdaClient:
    """boto3's Lambda client for the start-lambda endpoint: never retried (an invoke is not
    idempotent), waiting as long as a cold container on a busy machine may take."""
    return boto3.client(
        "lambda",
        endpoint_url=url,
        region_name=ENVIRONMENT["AWS_DEFAULT_REGION"],
        aws_access_key_id=ENVIRONMENT["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=ENVIRONMENT["AWS_SECRET_ACCESS_KEY"],
        config=Config(read_timeout=300, retries={"total_max_attempts": 1}),
    )


def invoke_problem(client: LambdaClient, sample: Sample) -> str | None:
    """None when the function answers the sample as expected (an error exactly where one is expected),
    otherwise what is wrong. The error is read from the answer: SAM CLI 1.170 sets FunctionError only
    for an error of exactly Lambda's old keys, and the runtime client (awslambdaric 4) adds requestId."""
    response = client.invoke(FunctionName=sample.function, Payload=sample.payload())
    answer = json.loads(response["Payload"].read())
    if response["StatusCode"] != 200 or not isinstance(answer, dict):
        return f"status {response['StatusCode']}, answer {json.dumps(answer)[:2000]}"
    if ("errorType" in answer) != sample.fails:
        return f"expected {'an' if sample.fails else 'no'} error, got {json.dumps(answer)[:2000]}"
    return sample.mismatch(answer)


def invoke_every_sample(url: str) -> list[str]:
    client, failures = lambda_client(url), []
    for sample in SAMPLES:
        started = time.monotonic()
        problem = invoke_problem(client, sample)
        seconds = time.monotonic() - started
        print(f"  {sample.function} <- events/{sample.event}: {problem or 'ok'} ({seconds:.1f} s)", flush=True)
        if problem:
            failures.append(f"{sample.function} ({sample.event}): {problem}")
    return failures


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


def build(timings: dict[str, float]) -> Path:
    """The template built for this machine's architecture, the sam-local layer and the per-API templates."""
    built = WORK / "build"
    with step(f"sam build (Architecture={ARCHITECTURE}) while make dev starts", timings):
        run(
            [SAM, "build", "--build-dir", str(built), "--cache-dir", str(WORK / "cache"), "--cached",
             "--parameter-overrides", f"Architecture={ARCHITECTURE}"],
            WORK / "build.log", timeout=1800,
        )  # fmt: skip
        command, layer = authorizer_layer_build(built)
        run([*command, "--cached", "--cache-dir", str(WORK / "cache-sam-local")], WORK / "build-sam-local.log", 900)
        write_api_templates(built, layer)
    return built


def against_make_dev(timings: dict[str, float]) -> None:
    """make dev, the build while it starts, the three sam local servers started while it makes its
    demo data, then the samples through start-lambda and the quick start through start-api."""
    local = LocalStackProcess(WORK, moto_host=docker_bridge_address())
    try:
        built = build(timings)
        with ExitStack() as servers:
            with step("make dev (demo data); meanwhile start-lambda and start-api x 2 starting", timings):
                wait_for_env_vars(local)
                started = time.monotonic()
                # Warm containers, LAZY (samconfig.toml): EAGER would make every function's container at
                # once, and SAM CLI 1.170 then makes some twice, leaving the first ones running.
                functions = servers.enter_context(sam_server("start-lambda", built / "template.yaml", local))
                storefront = servers.enter_context(sam_server("start-api", built / "StorefrontApi.yaml", local))
                back_office = servers.enter_context(sam_server("start-api", built / "BackOfficeApi.yaml", local))
                local.wait_until_ready(timeout=SERVER_START_SECONDS)
                print(f"  make dev ready {time.monotonic() - started:.1f} s after the servers' start", flush=True)
                for url, process in (functions, storefront, back_office):
                    wait_until_answering(url, process, started)
            with step(f"invoke x {len(SAMPLES)} through start-lambda", timings):
                failures = invoke_every_sample(functions[0])
            if failures:
                raise CheckFailedError("samples that did not get their answer:\n  " + "\n  ".join(failures))
            with step("sam local start-api: the quick start", timings):
                quick_start(storefront[0], back_office[0], local)
    finally:
        local.stop()


def main() -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    try:
        with step("Docker Engine", timings):
            run([str(HERE / "docker.sh")], WORK / "docker.log", timeout=900)
        with step("base image (built once per recipe)", timings):
            run([str(HERE / "build_image.sh")], WORK / "image.log", timeout=1800)
        against_make_dev(timings)
    except (CheckFailedError, subprocess.TimeoutExpired, TimeoutError, RuntimeError, BotoCoreError) as failure:
        print(f"sam-local-check: FAILED: {failure}", file=sys.stderr)
        return 1
    finally:
        for name, seconds in timings.items():
            print(f"  {seconds:7.1f} s  {name}")
    print("sam-local-check: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
