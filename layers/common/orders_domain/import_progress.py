"""A bulk import's documents: its status and progress, its rejected rows, and the answer to
POST /imports."""

from enum import StrEnum

from pydantic import Field

from orders_domain.models import Record


class ImportStatus(StrEnum):
    WAITING_FOR_FILE = "WAITING_FOR_FILE"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    COMPLETED_WITH_ERRORS = "COMPLETED_WITH_ERRORS"
    FAILED = "FAILED"


class RowError(Record):
    row: int  # data rows count from 1; the header is not a row
    message: str


class ImportProgress(Record):
    """A bulk import's progress, as `GET /imports/{import_id}` returns it; `report_url` is a
    short-lived link to the rejected rows."""

    import_id: str
    status: ImportStatus
    rows_total: int = 0
    rows_imported: int = 0
    rows_rejected: int = 0
    chunks_total: int = 0
    chunks_done: int = 0
    errors: list[RowError] = Field(default_factory=list)
    report_url: str | None = None
    reason: str | None = None


class StoredImport(ImportProgress):
    """The stored import, with where its report is kept; never returned to a client."""

    report_key: str | None = None


class NewImport(Record):
    """The answer to `POST /imports`: send the file with `PUT upload_url` and `Content-Type: text/csv`
    before `expires_at`."""

    import_id: str
    upload_url: str
    expires_at: str
    status: ImportStatus
