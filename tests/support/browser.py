"""Debian's Chromium, headless, driven over the DevTools protocol: open a page, type and click as a
user does, read what the page shows, take a screenshot."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
import websocket

# Flags that work in a container as root, and keep Chromium off the network (it starts nothing of its own).
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1600",
    "--remote-debugging-port=0",
)


def chromium() -> str | None:
    return shutil.which("chromium")


class Browser:
    """One headless Chromium with one page, in a profile of its own that is removed on close."""

    def __init__(self, timeout: float = 30) -> None:
        executable = chromium()
        if executable is None:
            raise RuntimeError("chromium is not installed")
        self.timeout = timeout
        # Chromium's helper processes may still write the profile as it is removed: what they leave is
        # theirs to lose, not a test's failure.
        self._profile = tempfile.TemporaryDirectory(prefix="chromium-", ignore_cleanup_errors=True)
        self.process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={self._profile.name}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its helpers are stopped with it, as one process group
        )
        port = self._devtools_port(Path(self._profile.name) / "DevToolsActivePort")
        page = next(t for t in requests.get(f"http://127.0.0.1:{port}/json", timeout=10).json() if t["type"] == "page")
        self._socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=timeout, suppress_origin=True)
        self._ids = itertools.count(1)
        self.call("Page.enable")

    def _devtools_port(self, announced: Path) -> int:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.process.returncode}")
            if announced.exists() and announced.read_text().strip():
                return int(announced.read_text().split()[0])
            time.sleep(0.1)
        raise TimeoutError("chromium did not open its DevTools port")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """One DevTools command and its result (events that arrive meanwhile are not needed here)."""
        command_id = next(self._ids)
        self._socket.send(json.dumps({"id": command_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv())
            if message.get("id") == command_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str) -> Any:
        """The value of a JavaScript expression once it is truthy."""
        deadline = time.monotonic() + self.timeout
        while not (value := self.evaluate(expression)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"not shown within {self.timeout} s: {expression}")
            time.sleep(0.1)
        return value

    def click(self, selector: str, within: str = "document") -> None:
        """Click the first element matching `selector` inside `within` (a JavaScript expression), once shown."""
        element = f"{within}.querySelector({json.dumps(selector)})"
        self.wait_for(f"!!{element}")
        self.evaluate(f"{element}.scrollIntoView(); {element}.click()")

    def type_into(self, selector: str, text: str, within: str = "document") -> None:
        """Replace the text of an input or textarea by typing, as a user does (frameworks see input events)."""
        element = f"{within}.querySelector({json.dumps(selector)})"
        self.wait_for(f"!!{element}")
        self.evaluate(f"{element}.focus(); {element}.select()")
        self.call("Input.insertText", text=text)

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"]))

    def close(self) -> None:
        self._socket.close()
        self._signal_all(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self._signal_all(signal.SIGKILL)
            self.process.wait()
        self._profile.cleanup()

    def _signal_all(self, signal_number: int) -> None:
        with contextlib.suppress(ProcessLookupError):  # all of them have already exited
            os.killpg(self.process.pid, signal_number)
