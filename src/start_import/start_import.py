"""StartImportFunction: an upload's `Object Created` (S3 → EventBridge's default bus, invoked
asynchronously) → the import's workflow.

The execution is named after the import, so a second delivery of the same event starts nothing; an
object that is not the upload of an import waiting for its file starts nothing either.
"""

from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from orders_domain.adapters.workflows import start_once
from orders_domain.observability import logger
from orders_domain.persistence.import_storage import ImportFiles, ImportsRepository
from orders_domain.rules.import_jobs import is_waiting
from orders_domain.settings import ImportsTable, StateMachine


class StartImportSettings(ImportsTable, StateMachine):
    pass


settings = StartImportSettings.from_environment()
imports = ImportsRepository(settings.imports_table)


@logger.inject_lambda_context(correlation_id_path="detail.object.key")
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    key = event.detail["object"]["key"]  # in the imports bucket: its only notifications
    import_id = ImportFiles.import_of(key)
    if import_id is None or not is_waiting(imports, import_id):
        logger.warning("not the upload of an import waiting for its file: nothing started", key=key)
        return {"import_id": import_id, "started": False}
    started = start_once(settings.state_machine_arn, import_id, {"import_id": import_id, "key": key})
    logger.info("import running" if started else "import already started: nothing started", import_id=import_id)
    return {"import_id": import_id, "started": started}
