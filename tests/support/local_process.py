"""`python -m local_stack` (what `make dev` runs) as a child process, for the end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from functools import cached_property
from pathlib import Path
from typing import Any

import boto3
import requests

from local_stack.apigateway.sam_cli import APIS
from local_stack.cloudformation.template import PROJECT_ROOT
from local_stack.token import id_token


class LocalStackProcess:
    """The stack listens on ports the kernel gives it (never ones chosen here, which another program
    may take before the stack binds them): its URLs are in its outputs file, once ready."""

    def __init__(self, workdir: Path, template: Path | None = None, moto_host: str = "127.0.0.1") -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="local-stack-", dir=workdir))
        self.outputs_file = self.workdir / "outputs.json"
        self.env_vars_file = self.workdir / "local-env-vars.json"  # for `sam local --env-vars`
        self.log_file = self.workdir / "local-stack.log"
        arguments = [sys.executable, "-m", "local_stack", "--outputs-file", str(self.outputs_file)]
        if template is not None:
            arguments += ["--template", str(template)]
        environment = {
            **os.environ,
            "PYTHONPATH": str(PROJECT_ROOT),
            **{variable: "0" for _, variable, _ in APIS},
            "MOTO_HOST": moto_host,
        }
        for variable in ("AWS_ENDPOINT_URL", "MOTO_PORT", "PAYMENT_PORT"):
            environment.pop(variable, None)
        self._log = self.log_file.open("w")
        self.process = subprocess.Popen(
            arguments, cwd=PROJECT_ROOT, env=environment, stdout=self._log, stderr=subprocess.STDOUT
        )

    def wait_until_ready(self, timeout: float = 240) -> LocalStackProcess:
        """Until the outputs file exists: the stack is up and its demo data made (local_stack/demo.py,
        up to 150 s on a busy machine)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"local stack exited: {self.log()}")
            if self.outputs_file.exists():  # written once every endpoint accepts requests
                return self
            time.sleep(0.2)
        raise TimeoutError(f"local stack not ready after {timeout}s: {self.log()}")

    @cached_property
    def outputs(self) -> dict[str, Any]:
        """Read once the stack is ready (its file is written then, and never changes)."""
        outputs: dict[str, Any] = json.loads(self.outputs_file.read_text())
        return outputs

    @property
    def url(self) -> str:
        """The storefront API's."""
        return str(self.outputs["StorefrontApiUrl"])

    @property
    def admin_url(self) -> str:
        """The back office API's."""
        return str(self.outputs["BackOfficeApiUrl"])

    @property
    def endpoint(self) -> str:
        """The AWS endpoint's (moto's server)."""
        return str(self.outputs["AwsEndpointUrl"])

    def client(self, service: str, **options: Any) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
            **options,
        )

    def token(self, email: str, name: str = "Ada", staff: bool = False) -> str:
        """An ID token from the local user pool, through the ordinary Cognito API (make token)."""
        return id_token(self.outputs, email, name, staff)

    def storefront(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        return self._request(self.url, method, path, token, **kwargs)

    def back_office(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        return self._request(self.admin_url, method, path, token, **kwargs)

    def _request(self, base: str, method: str, path: str, token: str | None, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if token is not None:
            headers.setdefault("Authorization", f"Bearer {token}")
        kwargs.setdefault("timeout", 30)
        return requests.request(method, base + path, headers=headers, **kwargs)

    def listening_sockets(self) -> set[tuple[str, int]]:
        """(address, port) of each TCP socket listening in make dev's process or its workers (Linux /proc)."""
        return listening_sockets(process_tree(self.process.pid))

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_file.read_text()

    def stop(self, timeout: float = 15, how: signal.Signals = signal.SIGINT) -> int:
        """Ctrl-C (or `how`), as a user would; the exit code (raises if it does not stop in time)."""
        if self.process.poll() is None:
            self.process.send_signal(how)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                raise
        self._log.close()
        return self.process.returncode


def process_tree(pid: int) -> set[int]:
    """The process and all its descendants."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        parents[int(stat.parent.name)] = int(fields[1])
    tree = {pid}
    while grown := {child for child, parent in parents.items() if parent in tree} - tree:
        tree |= grown
    return tree


def _socket_inodes(pids: set[int]) -> set[str]:
    inodes = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    return inodes


def _address(hex_address: str) -> str:
    """/proc/net/tcp's address: IPv4 as one little-endian word, IPv6 as four."""
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    return socket.inet_ntop(socket.AF_INET6, b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4)))


def listening_sockets(pids: set[int]) -> set[tuple[str, int]]:
    inodes = _socket_inodes(pids)
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # state LISTEN
                address, port = fields[1].split(":")
                found.add((_address(address), int(port, 16)))
    return found
