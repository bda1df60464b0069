"""Persistence of bulk imports: the imports table (one progress document per import) and the
imports bucket (the upload, the chunks the workflow hands out, the rejected rows, the report)."""

from __future__ import annotations

import json
import time
from functools import reduce
from operator import and_
from typing import Any

from boto3.dynamodb.conditions import Attr, ConditionBase
from botocore.exceptions import ClientError

from orders_domain.adapters import aws_clients
from orders_domain.errors import ConflictError
from orders_domain.import_progress import ImportStatus, StoredImport
from orders_domain.models import utc_now
from orders_domain.persistence.items import from_item, to_item
from orders_domain.persistence.update_expressions import set_values

UPLOADS = "uploads/"  # the only prefix whose new objects start an import
CSV = "text/csv"


class ImportsRepository:
    """One item per import; it expires RETENTION_DAYS after it was created."""

    RETENTION_DAYS = 30

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def create(self, import_id: str, created_by: str) -> StoredImport:
        progress = StoredImport(import_id=import_id, status=ImportStatus.WAITING_FOR_FILE)
        stored = {"created_by": created_by, "created_at": utc_now(), "expires": self._expiry()}
        aws_clients.dynamodb().put_item(
            TableName=self.table_name,
            Item=to_item(progress) | to_item(stored),
            ConditionExpression="attribute_not_exists(import_id)",
        )
        return progress

    def get(self, import_id: str) -> StoredImport | None:
        item = (
            aws_clients.dynamodb().get_item(TableName=self.table_name, Key={"import_id": {"S": import_id}}).get("Item")
        )
        return StoredImport.model_validate(from_item(item)) if item else None

    def start(self, import_id: str, rows_total: int, chunks_total: int) -> None:
        """RUNNING, with the file's totals; again if the step is retried, never once it has ended."""
        self._set(
            import_id,
            {"status": ImportStatus.RUNNING, "rows_total": rows_total, "chunks_total": chunks_total},
            (ImportStatus.WAITING_FOR_FILE, ImportStatus.RUNNING),
        )

    def fail(self, import_id: str, reason: str) -> StoredImport:
        """FAILED with the reason; again, unchanged, if it is already FAILED with that reason (the
        step retried after its first attempt marked it), never once it has otherwise ended."""
        return self._set(
            import_id,
            {"status": ImportStatus.FAILED, "reason": reason},
            (ImportStatus.WAITING_FOR_FILE, ImportStatus.RUNNING),
            or_already_set=True,
        )

    def finish(self, progress: StoredImport) -> StoredImport:
        values = progress.model_dump(exclude={"import_id", "report_url"}, exclude_none=True)
        return self._set(progress.import_id, values, (ImportStatus.RUNNING,))

    def _set(
        self,
        import_id: str,
        values: dict[str, Any],
        allowed: tuple[ImportStatus, ...],
        or_already_set: bool = False,
    ) -> StoredImport:
        """Write `values` if the status is one of `allowed` or, with `or_already_set`, if the item
        already holds every one of them (a retried write: it succeeds and changes nothing). One
        conditional write; ConflictError otherwise."""
        condition: ConditionBase = Attr("status").is_in(list(allowed))
        if or_already_set:
            condition |= reduce(and_, (Attr(name).eq(value) for name, value in values.items()))
        try:
            response = aws_clients.dynamodb().update_item(
                TableName=self.table_name,
                Key={"import_id": {"S": import_id}},
                **set_values(values, Attr("import_id").exists() & condition),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ConflictError(f"import {import_id} is not {' or '.join(allowed)}") from error
            raise
        return StoredImport.model_validate(from_item(response["Attributes"]))

    def _expiry(self) -> int:
        return int(time.time()) + self.RETENTION_DAYS * 86400


class ImportFiles:
    """The imports bucket. Uploads and reports are reached only through presigned URLs."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    @staticmethod
    def upload_key(import_id: str) -> str:
        return f"{UPLOADS}{import_id}.csv"

    @staticmethod
    def import_of(key: str) -> str | None:
        """The import an uploaded object belongs to; None for any other key."""
        if not (key.startswith(UPLOADS) and key.endswith(".csv")):
            return None
        return key.removeprefix(UPLOADS).removesuffix(".csv") or None

    @staticmethod
    def chunk_key(import_id: str, index: int) -> str:
        return f"work/{import_id}/chunk-{index:05d}.json"

    @staticmethod
    def rejected_key(import_id: str, index: int) -> str:
        return f"work/{import_id}/rejected-{index:05d}.json"

    @staticmethod
    def report_key(import_id: str) -> str:
        return f"reports/{import_id}.csv"

    def upload_url(self, import_id: str, expires_in: int) -> str:
        """A URL that accepts one `PUT` of the file with `Content-Type: text/csv` (signed)."""
        return aws_clients.s3().generate_presigned_url(
            "put_object",
            Params={"Bucket": self.bucket, "Key": self.upload_key(import_id), "ContentType": CSV},
            ExpiresIn=expires_in,
        )

    def download_url(self, key: str, expires_in: int) -> str:
        return aws_clients.s3().generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
        )

    def read(self, key: str, limit: int) -> bytes | None:
        """The object's bytes; None when it is larger than `limit` (then it is not downloaded)."""
        response = aws_clients.s3().get_object(Bucket=self.bucket, Key=key)
        if response["ContentLength"] > limit:
            response["Body"].close()
            return None
        data: bytes = response["Body"].read()
        return data

    def write(self, key: str, data: bytes, content_type: str) -> None:
        aws_clients.s3().put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def read_json(self, key: str) -> Any:
        return json.loads(aws_clients.s3().get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def write_json(self, key: str, value: Any) -> None:
        self.write(key, json.dumps(value, separators=(",", ":")).encode(), "application/json")
