"""The steps of a bulk import, as the import workflows run them: open an import, read and split the
upload, import one chunk, sum up. Each step can run twice with the same outcome (a retried task)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from orders_domain.errors import NotFoundError
from orders_domain.import_progress import ImportProgress, ImportStatus, NewImport, RowError
from orders_domain.persistence.import_storage import CSV, ImportFiles, ImportsRepository
from orders_domain.persistence.inventory import InventoryRepository
from orders_domain.rules.imports import (
    MAX_FILE_BYTES,
    SHOWN_ERRORS,
    Chunk,
    ChunkOutcome,
    ChunkRow,
    FileRejected,
    check_rows,
    final_progress,
    read_rows,
    report,
    split,
)

FAILED_CHUNK = "not imported: its chunk failed every attempt (importing the row again is safe)"


def open_import(imports: ImportsRepository, files: ImportFiles, created_by: str, expires_in: int) -> NewImport:
    import_id = str(uuid4())
    expires_at = datetime.now(UTC) + timedelta(seconds=expires_in)
    progress = imports.create(import_id, created_by)
    return NewImport(
        import_id=import_id,
        upload_url=files.upload_url(import_id, expires_in),
        expires_at=expires_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        status=progress.status,
    )


def find_import(imports: ImportsRepository, files: ImportFiles, import_id: str, link_expiry: int) -> ImportProgress:
    """The progress document, with a fresh link to the report of rejected rows if there is one."""
    progress = imports.get(import_id)
    if progress is None:
        raise NotFoundError(f"import {import_id} not found")
    public = ImportProgress.model_validate(progress.model_dump(exclude={"report_key"}))
    if progress.report_key:
        public.report_url = files.download_url(progress.report_key, link_expiry)
    return public


def is_waiting(imports: ImportsRepository, import_id: str) -> bool:
    progress = imports.get(import_id)
    return progress is not None and progress.status == ImportStatus.WAITING_FOR_FILE


def prepare(imports: ImportsRepository, files: ImportFiles, import_id: str, key: str) -> dict[str, Any]:
    """Read the upload: FAILED with the reason if it is not the import CSV; otherwise RUNNING, and one
    stored chunk per CHUNK_ROWS rows for the workers. The answer says which, with the chunks."""
    try:
        chunks = split(read_rows(files.read(key, MAX_FILE_BYTES)))
    except FileRejected as rejected:
        failed = imports.fail(import_id, str(rejected))
        return {"readable": False, "summary": summary(failed)}
    descriptors = []
    for index, rows in enumerate(chunks):
        files.write_json(files.chunk_key(import_id, index), [row.model_dump() for row in rows])
        descriptors.append(Chunk(index=index, first_row=rows[0].row, rows=len(rows)).model_dump())
    imports.start(import_id, rows_total=sum(len(rows) for rows in chunks), chunks_total=len(chunks))
    return {"readable": True, "chunks": descriptors}


def import_chunk(inventory: InventoryRepository, files: ImportFiles, import_id: str, chunk: Chunk) -> ChunkOutcome:
    """Validate a chunk's rows, write the good ones, keep the rejected ones for the report."""
    rows = [ChunkRow.model_validate(row) for row in files.read_json(files.chunk_key(import_id, chunk.index))]
    writes, rejected = check_rows(rows)
    inventory.put_many(writes)
    if rejected:
        files.write_json(files.rejected_key(import_id, chunk.index), [error.model_dump() for error in rejected])
    return ChunkOutcome(index=chunk.index, rows=len(rows), imported=len(rows) - len(rejected), rejected=len(rejected))


def finish(
    imports: ImportsRepository, files: ImportFiles, import_id: str, outcomes: Sequence[ChunkOutcome]
) -> dict[str, Any]:
    """Sum the chunks up: every rejected row in the report (by row number), the first ones in the
    progress document, the final status. The answer is the summary that staff are sent."""
    ordered = sorted(outcomes, key=lambda outcome: outcome.index)
    rejected_rows: list[tuple[RowError, list[str]]] = []
    for outcome in ordered:
        if not outcome.rejected:
            continue
        rows = {
            row.row: row
            for row in map(ChunkRow.model_validate, files.read_json(files.chunk_key(import_id, outcome.index)))
        }
        if outcome.failed:
            errors = [RowError(row=number, message=FAILED_CHUNK) for number in rows]
        else:
            errors = [RowError.model_validate(e) for e in files.read_json(files.rejected_key(import_id, outcome.index))]
        rejected_rows.extend((error, rows[error.row].fields) for error in errors)
    report_key = None
    if rejected_rows:
        report_key = files.report_key(import_id)
        files.write(report_key, report(rejected_rows), CSV)
    first_errors = [error for error, _ in rejected_rows[:SHOWN_ERRORS]]
    return summary(imports.finish(final_progress(import_id, ordered, first_errors, report_key)))


def summary(progress: ImportProgress) -> dict[str, Any]:
    """What staff are told when an import ends (the SNS message): the progress document without the
    row errors (the report has them)."""
    return progress.model_dump(mode="json", exclude={"errors", "report_url"}, exclude_none=True)
