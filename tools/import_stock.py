"""make import FILE=stock.csv [STACK=name EMAIL=staff@example.com]: a bulk import of stock and prices
in one command, as staff would make it by hand through the back office: sign in, open the import
(POST /imports), upload the file to its presigned URL, follow its progress (GET /imports/{id}), then
print the summary and every rejected row (from the import's report).

Against `make dev` by default (its demo staff account); against a deployed stack with --stack NAME
and --email: the password is read from IMPORT_PASSWORD, or asked for.

Exit status: 0 every row imported; 2 some rows rejected (listed); 1 the import failed (a file that
is not the import CSV, a sign-in refused, an API error), with the reason.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import io
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import requests
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

FINISHED = {"COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED"}
EXIT = {"COMPLETED": 0, "COMPLETED_WITH_ERRORS": 2, "FAILED": 1}
LOCAL_STAFF_EMAIL = "demo.staff@example.com"  # make dev's demo staff account (local_stack/demo.py)


class ImportFailed(Exception):  # noqa: N818 - named for what happened
    """Why the import could not be made or did not finish: printed, exit status 1."""


@dataclass
class BackOffice:
    url: str
    token: str

    def call(self, method: str, path: str) -> Any:
        response = requests.request(
            method, self.url + path, headers={"Authorization": f"Bearer {self.token}"}, timeout=30
        )
        if not response.ok:
            raise ImportFailed(f"{method} {path}: {response.status_code} {response.text.strip()}")
        return response.json()


def local_back_office(outputs_file: Path) -> BackOffice:
    """make dev's back office, signed in as its demo staff account."""
    from local_stack.token import id_token  # noqa: PLC0415 - only for the local stack (moto, not needed on AWS)

    if not outputs_file.exists():
        raise ImportFailed(f"{outputs_file} not found: start the local stack first (make dev), or give --stack")
    outputs = json.loads(outputs_file.read_text())
    return BackOffice(outputs["BackOfficeApiUrl"], id_token(outputs, LOCAL_STAFF_EMAIL, "Demo Staff", staff=True))


def deployed_back_office(stack: str, email: str, password: str) -> BackOffice:
    """A deployed stack's back office (its outputs), signed in with the staff member's password."""
    [described] = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    outputs = {output["OutputKey"]: output["OutputValue"] for output in described.get("Outputs", [])}
    idp = boto3.client("cognito-idp")
    try:
        answer = idp.initiate_auth(
            ClientId=outputs["UserPoolClientId"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
    except idp.exceptions.NotAuthorizedException as refused:
        raise ImportFailed(f"sign-in refused for {email}: {refused}") from refused
    if "AuthenticationResult" not in answer:
        raise ImportFailed(f"sign-in for {email} needs a challenge first ({answer.get('ChallengeName')})")
    return BackOffice(outputs["BackOfficeApiUrl"], answer["AuthenticationResult"]["IdToken"])


def upload(back_office: BackOffice, file: Path) -> str:
    """Open the import and send the file to its presigned URL; the import's id."""
    opened = back_office.call("POST", "/imports")
    sent = requests.put(opened["upload_url"], data=file.read_bytes(), headers={"Content-Type": "text/csv"}, timeout=300)
    if not sent.ok:
        raise ImportFailed(f"upload of {file} refused: {sent.status_code} {sent.text.strip()}")
    return str(opened["import_id"])


def follow(
    back_office: BackOffice, import_id: str, console: Console, timeout: float, interval: float = 0.5
) -> dict[str, Any]:
    """The import's progress, shown as a bar of its chunks, until it has finished."""
    deadline = time.monotonic() + timeout
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("waiting for the file", total=None)
        while True:
            progress: dict[str, Any] = back_office.call("GET", f"/imports/{import_id}")
            rows = f"{progress.get('rows_imported', 0):,} rows imported, {progress.get('rows_rejected', 0):,} rejected"
            chunks = progress.get("chunks_total") or None
            bar.update(task, total=chunks, completed=progress.get("chunks_done", 0), description=f"chunks ({rows})")
            if progress["status"] in FINISHED:
                return progress
            if time.monotonic() > deadline:
                raise ImportFailed(f"import {import_id} is still {progress['status']} after {timeout:.0f} s")
            time.sleep(interval)


def rejected_rows(progress: dict[str, Any]) -> list[dict[str, str]]:
    """Every rejected row, from the report (the progress holds only the first 20)."""
    if "report_url" not in progress:
        return [{"row": str(error["row"]), "error": error["message"]} for error in progress.get("errors", [])]
    report = requests.get(progress["report_url"], timeout=60)
    report.raise_for_status()
    return list(csv.DictReader(io.StringIO(report.content.decode("utf-8"))))


def summary(progress: dict[str, Any], rows: list[dict[str, str]]) -> list[str]:
    status = progress["status"]
    if status == "FAILED":
        return [f"Import {progress['import_id']} FAILED: {progress.get('reason', 'no reason given')}"]
    lines = [
        f"Import {progress['import_id']} {status}: {progress['rows_imported']:,} of {progress['rows_total']:,} rows "
        f"imported, {progress['rows_rejected']:,} rejected"
    ]
    if rows:
        lines.append("Rejected rows (row numbers count data rows from 1):")
        lines += [f"  row {row['row']}: {row['error']}" for row in rows]
    return lines


def run(arguments: argparse.Namespace, sign_in: Callable[[], BackOffice], console: Console) -> int:
    file = Path(arguments.file)
    if not file.is_file():
        raise ImportFailed(f"{file}: no such file")
    back_office = sign_in()
    import_id = upload(back_office, file)
    console.print(f"Import {import_id}: {file} uploaded ({file.stat().st_size:,} bytes)")
    progress = follow(back_office, import_id, console, arguments.timeout)
    for line in summary(progress, rejected_rows(progress) if progress["status"] != "FAILED" else []):
        console.print(line, highlight=False, markup=False)
    return EXIT[progress["status"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make import", description=__doc__.split("\n\n")[0])
    parser.add_argument("file", help="the CSV: product_id,quantity,price")
    parser.add_argument("--stack", help="a deployed stack's name (default: the running make dev)")
    parser.add_argument("--email", help="the staff member who signs in (with --stack)")
    parser.add_argument("--outputs-file", type=Path, help="make dev's outputs (default: .aws-sam/local-outputs.json)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for the import (default 600)")
    arguments = parser.parse_args(argv)
    console = Console(soft_wrap=True)  # a line per line, whatever the terminal's width
    if arguments.stack:
        if not arguments.email:
            parser.error("--stack needs --email")
        password = os.environ.get("IMPORT_PASSWORD") or getpass.getpass(f"Password of {arguments.email}: ")
        sign_in = lambda: deployed_back_office(arguments.stack, arguments.email, password)  # noqa: E731
    else:
        from local_stack.cloudformation.template import OUTPUTS_FILE  # noqa: PLC0415 - the local stack's, not needed on AWS

        sign_in = lambda: local_back_office(arguments.outputs_file or OUTPUTS_FILE)  # noqa: E731
    try:
        return run(arguments, sign_in, console)
    except (ImportFailed, requests.RequestException) as error:
        console.print(f"make import: {error}", style="red", highlight=False, markup=False)
        return 1


if __name__ == "__main__":
    sys.exit(main())
