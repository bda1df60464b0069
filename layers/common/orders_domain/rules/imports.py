"""Bulk inventory imports: reading the uploaded CSV, splitting it into chunks, validating each row
like `PUT /inventory`, and summing the chunks up into the import's final progress and its report.

Plain functions of bytes and rows; storage is `import_storage`'s, orchestration the workflows'.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import BaseModel, Field, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from orders_domain.errors import bounded
from orders_domain.import_progress import ImportStatus, RowError, StoredImport
from orders_domain.models import Identifier, StockUpdate

HEADER = ("product_id", "quantity", "price")
MAX_ROWS = 100_000
CHUNK_ROWS = 1_000
# The longest valid row is about 150 bytes (a 128-character id); a larger file cannot be this CSV.
MAX_FILE_BYTES = 16 * 1024 * 1024
SHOWN_ERRORS = 20  # `errors` of the progress document; the report has every rejected row

_WHOLE_NUMBER = re.compile(r"([0-9]{1,10})(\.0*)?")  # 7.0 is 7, as in a JSON body
_DECIMAL = re.compile(r"[0-9]{1,10}(\.[0-9]+)?")
_DECIMAL_REPR = re.compile(r"Decimal\('([^']*)'\)")  # pydantic's bounds, as the client wrote them
_product_id = TypeAdapter[str](Identifier)


class FileRejected(Exception):  # noqa: N818 - named for what the import becomes
    """The upload cannot be read as the import CSV; the import fails with this reason."""


class ChunkRow(BaseModel):
    """A data row as uploaded (fields unparsed), its number in the file, and whether it is the last
    row of its product (only that one is written: the last row wins)."""

    row: int
    fields: list[str]
    last: bool


class Chunk(BaseModel):
    index: int
    first_row: int
    rows: int


class ChunkOutcome(BaseModel):
    """What importing a chunk did; a chunk that failed every attempt has all its rows rejected."""

    index: int
    rows: int
    imported: Annotated[int, Field(ge=0)]
    rejected: Annotated[int, Field(ge=0)]
    failed: bool = False


def read_rows(data: bytes | None) -> list[list[str]]:
    """The data rows of an upload, or FileRejected with a precise reason. At most MAX_FILE_BYTES
    (None stands for an upload that is larger, left unread: `ImportFiles.read`'s answer), UTF-8 (a
    byte order mark is allowed), the exact header, at most MAX_ROWS rows; blank lines are not rows."""
    if data is None or len(data) > MAX_FILE_BYTES:
        raise FileRejected(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileRejected(f"the file is not UTF-8 (byte {error.start} cannot be decoded)") from error
    if "\x00" in text:
        raise FileRejected("the file is not a text file (it contains NUL characters)")
    lines = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(lines, None)
        if header is None:
            raise FileRejected("the file is empty: expected the header product_id,quantity,price")
        if tuple(name.strip() for name in header) != HEADER:
            raise FileRejected(f"the header must be product_id,quantity,price (found {bounded(','.join(header))})")
        rows: list[list[str]] = []
        for fields in lines:
            if not any(field.strip() for field in fields):
                continue
            if len(rows) == MAX_ROWS:
                raise FileRejected(f"the file has more than {MAX_ROWS} rows")
            rows.append(fields)
    except csv.Error as error:
        raise FileRejected(f"the file is not valid CSV (line {lines.line_num}: {error})") from error
    return rows


def split(rows: Sequence[list[str]]) -> list[list[ChunkRow]]:
    """Chunks of at most CHUNK_ROWS rows, numbered from 1, each row marked `last` when no later row
    names the same product."""
    last_row_of = {fields[0].strip(): number for number, fields in enumerate(rows, start=1) if fields}
    numbered = [
        ChunkRow(row=number, fields=fields, last=bool(fields) and last_row_of.get(fields[0].strip()) == number)
        for number, fields in enumerate(rows, start=1)
    ]
    return [numbered[start : start + CHUNK_ROWS] for start in range(0, len(numbered), CHUNK_ROWS)]


def parse_row(fields: Sequence[str]) -> tuple[str, StockUpdate]:
    """The product and its stock from a row, validated like `PUT /inventory/{product_id}`; a
    ValueError says what is wrong (one line, never echoing a long input)."""
    if len(fields) != len(HEADER):
        raise ValueError(f"expected 3 fields (product_id,quantity,price), found {len(fields)}")
    product_id, quantity, price = (field.strip() for field in fields)
    try:
        product_id = _product_id.validate_python(product_id)
    except PydanticValidationError as error:
        raise ValueError(f"product_id: {error.errors()[0]['msg']}") from error
    whole = _WHOLE_NUMBER.fullmatch(quantity)
    if whole is None:
        raise ValueError("quantity: must be a whole number from 0")
    if not _DECIMAL.fullmatch(price):
        raise ValueError("price: must be a number from 0, with at most 2 decimals")
    try:
        return product_id, StockUpdate.model_validate({"quantity": int(whole[1]), "price": Decimal(price)})
    except (PydanticValidationError, InvalidOperation) as error:
        problems = error.errors() if isinstance(error, PydanticValidationError) else []
        message = "; ".join(f"{p['loc'][0]}: {p['msg']}" for p in problems) or "price: not a number"
        raise ValueError(_DECIMAL_REPR.sub(r"\1", message)) from error


def check_rows(rows: Iterable[ChunkRow]) -> tuple[dict[str, StockUpdate], list[RowError]]:
    """A chunk's rows validated: the stock to write (the last row of each product only) and the
    rejected rows, in file order."""
    writes: dict[str, StockUpdate] = {}
    rejected: list[RowError] = []
    for chunk_row in rows:
        try:
            product_id, stock = parse_row(chunk_row.fields)
        except ValueError as error:
            rejected.append(RowError(row=chunk_row.row, message=bounded(str(error))))
            continue
        if chunk_row.last:
            writes[product_id] = stock
    return writes, rejected


def report(rejected: Iterable[tuple[RowError, Sequence[str]]]) -> bytes:
    """The rejected rows as CSV: their number, what was uploaded and why it was rejected."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["row", *HEADER, "error"])
    for error, fields in rejected:
        padded = [*fields[: len(HEADER)], *[""] * (len(HEADER) - len(fields))]
        writer.writerow([error.row, *padded, error.message])
    return out.getvalue().encode("utf-8")


def final_progress(
    import_id: str, outcomes: Sequence[ChunkOutcome], first_errors: list[RowError], report_key: str | None
) -> StoredImport:
    """The import's last progress document, from what each chunk did."""
    rejected = sum(outcome.rejected for outcome in outcomes)
    return StoredImport(
        import_id=import_id,
        status=ImportStatus.COMPLETED_WITH_ERRORS if rejected else ImportStatus.COMPLETED,
        rows_total=sum(outcome.rows for outcome in outcomes),
        rows_imported=sum(outcome.imported for outcome in outcomes),
        rows_rejected=rejected,
        chunks_total=len(outcomes),
        chunks_done=len(outcomes),
        errors=first_errors[:SHOWN_ERRORS],
        report_key=report_key,
    )
