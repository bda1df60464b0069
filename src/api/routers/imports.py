"""Bulk imports of stock and prices: staff open an import (a presigned upload URL), upload the CSV,
and follow its progress while the import workflow runs."""

from functools import cache
from typing import Any

from api_settings import back_office_settings
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit
from http_api import DocumentedRoutes
from identity import caller_of

from orders_domain.import_progress import ImportProgress, NewImport
from orders_domain.models import Identifier
from orders_domain.observability import metrics
from orders_domain.persistence.import_storage import ImportFiles, ImportsRepository
from orders_domain.rules.import_jobs import find_import, open_import

back_office = Router()
imports_of_staff = DocumentedRoutes(back_office, tag="imports", audience="staff")
# How long the upload URL, and the link to a report of rejected rows, may be used.
LINK_EXPIRY_SECONDS = 900


@cache
def storage() -> tuple[ImportsRepository, ImportFiles]:
    settings = back_office_settings()
    return ImportsRepository(settings.imports_table), ImportFiles(settings.imports_bucket)


@imports_of_staff.post("/imports", NewImport, status=201, success="Created: upload the file")
def create_import() -> tuple[dict[str, Any], int]:
    """Open an import

    Returns where to upload the file: `PUT upload_url` with `Content-Type: text/csv` before
    `expires_at`. The file is CSV, UTF-8, header `product_id,quantity,price`, at most 100,000 rows,
    each row checked like `PUT /inventory/{product_id}`. The import starts once the file is uploaded."""
    imports, files = storage()
    created = open_import(imports, files, caller_of(back_office.current_event).user_id, LINK_EXPIRY_SECONDS)
    metrics.add_metric(name="ImportOpened", unit=MetricUnit.Count, value=1)
    return created.model_dump(mode="json"), 201


@imports_of_staff.get(
    "/imports/<import_id>", ImportProgress, 404, missing="import 7d1e2b9c-4f3a-4b8e-a1c6-0e5d9f2a8b37"
)
def get_import(import_id: Identifier) -> dict[str, Any]:
    """Follow an import

    Its status and progress (rows and chunks done), the first 20 rejected rows, and once it ended
    with rejected rows, `report_url`: every rejected row with its reason."""
    imports, files = storage()
    progress = find_import(imports, files, import_id, LINK_EXPIRY_SECONDS)
    return progress.model_dump(exclude_none=True)  # JSON types only
