"""ImportChunkFunction (import chunk workflow task): validates one chunk's rows like
`PUT /inventory`, writes the good ones in batches, stores the rejected ones; returns the counts."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orders_domain.observability import logger
from orders_domain.persistence.import_storage import ImportFiles
from orders_domain.persistence.inventory import InventoryRepository
from orders_domain.rules.import_jobs import import_chunk
from orders_domain.rules.imports import Chunk
from orders_domain.settings import ImportsBucket, InventoryTable


class ImportChunkSettings(InventoryTable, ImportsBucket):
    pass


settings = ImportChunkSettings.from_environment()
inventory = InventoryRepository(settings.inventory_table)
files = ImportFiles(settings.imports_bucket)


@logger.inject_lambda_context(correlation_id_path="import_id")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    chunk = Chunk.model_validate(event["chunk"])
    return import_chunk(inventory, files, event["import_id"], chunk).model_dump()
