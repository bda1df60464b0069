"""PrepareImportFunction (import workflow task): reads the upload; FAILED with the reason when it is
not the import CSV, otherwise RUNNING and split into stored chunks, which the answer lists."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orders_domain.observability import logger
from orders_domain.persistence.import_storage import ImportFiles, ImportsRepository
from orders_domain.rules.import_jobs import prepare
from orders_domain.settings import ImportStorage

settings = ImportStorage.from_environment()
imports = ImportsRepository(settings.imports_table)
files = ImportFiles(settings.imports_bucket)


@logger.inject_lambda_context(correlation_id_path="import_id")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return prepare(imports, files, event["import_id"], event["key"])
