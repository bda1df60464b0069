"""FinishImportFunction (import workflow task): sums the chunks up into the final progress, writes
the report of rejected rows; returns the summary that staff are sent."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import TypeAdapter

from orders_domain.observability import logger
from orders_domain.persistence.import_storage import ImportFiles, ImportsRepository
from orders_domain.rules.import_jobs import finish
from orders_domain.rules.imports import ChunkOutcome
from orders_domain.settings import ImportStorage

settings = ImportStorage.from_environment()
imports = ImportsRepository(settings.imports_table)
files = ImportFiles(settings.imports_bucket)
outcomes = TypeAdapter(list[ChunkOutcome])


@logger.inject_lambda_context(correlation_id_path="import_id")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return finish(imports, files, event["import_id"], outcomes.validate_python(event["chunks"]))
