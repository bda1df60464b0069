"""The imports table's progress documents (moto, the table made from template.yaml): a step that is
retried after its first attempt wrote its outcome writes it again without a conflict, while an
import that has otherwise ended stays as it is. And the one reason an upload too large to read
gets, whether it was read or left unread."""

import pytest
from boto3.dynamodb.types import TypeDeserializer

from support.aws import table_items
from support.instances import domain_as_loaded_by

domain = domain_as_loaded_by("PrepareImportFunction")

TOO_LARGE = "the file is larger than 16 MiB"
EMPTY = "the file is empty: expected the header product_id,quantity,price"


@pytest.fixture
def imports(domain, stack):
    return domain("persistence.import_storage").ImportsRepository(stack.ref("ImportsTable"))


@pytest.fixture
def files(domain, stack):
    return domain("persistence.import_storage").ImportFiles(stack.ref("ImportsBucket"))


def stored_item(stack, import_id):
    """The import's item exactly as stored, every attribute (created_at, expires included)."""
    item = stack.client("dynamodb").get_item(TableName=stack.ref("ImportsTable"), Key={"import_id": {"S": import_id}})
    return {name: TypeDeserializer().deserialize(value) for name, value in item["Item"].items()}


def test_failing_an_import_again_with_the_same_reason_succeeds_and_changes_nothing(imports, stack):
    imports.create("import-1", "staff-0001")
    first = imports.fail("import-1", EMPTY)
    stored = stored_item(stack, "import-1")

    again = imports.fail("import-1", EMPTY)

    assert again == first
    assert (again.status, again.reason) == ("FAILED", EMPTY)
    assert stored_item(stack, "import-1") == stored


def test_a_failed_import_is_not_failed_again_with_another_reason(imports, domain, stack):
    imports.create("import-1", "staff-0001")
    imports.fail("import-1", EMPTY)
    stored = stored_item(stack, "import-1")

    with pytest.raises(domain("errors").ConflictError, match="import import-1 is not WAITING_FOR_FILE or RUNNING"):
        imports.fail("import-1", TOO_LARGE)

    assert stored_item(stack, "import-1") == stored


def test_an_import_that_ended_otherwise_or_does_not_exist_is_not_failed(imports, domain, stack):
    imports.create("import-1", "staff-0001")
    imports.start("import-1", rows_total=0, chunks_total=0)
    imports.finish(domain("rules.imports").final_progress("import-1", [], [], None))
    stored = stored_item(stack, "import-1")
    conflict = domain("errors").ConflictError

    with pytest.raises(conflict):
        imports.fail("import-1", TOO_LARGE)
    with pytest.raises(conflict):
        imports.fail("no-such-import", TOO_LARGE)

    assert stored_item(stack, "import-1") == stored
    assert stored["status"] == "COMPLETED"
    assert [item["import_id"] for item in table_items(stack, "ImportsTable")] == ["import-1"]


def test_a_retried_prepare_of_a_rejected_file_answers_as_its_first_attempt(imports, files, domain, stack):
    imports.create("import-1", "staff-0001")
    files.write(files.upload_key("import-1"), b"sku,qty,price\n", "text/csv")
    prepare = domain("rules.import_jobs").prepare

    first = prepare(imports, files, "import-1", files.upload_key("import-1"))
    again = prepare(imports, files, "import-1", files.upload_key("import-1"))

    assert first == again
    assert (first["readable"], first["summary"]["status"]) == (False, "FAILED")
    assert first["summary"]["reason"] == "the header must be product_id,quantity,price (found sku,qty,price)"


def test_a_file_too_large_is_rejected_with_one_reason_read_or_left_unread(domain):
    imports = domain("rules.imports")

    for data in (None, b"x" * (imports.MAX_FILE_BYTES + 1)):
        with pytest.raises(imports.FileRejected) as rejected:
            imports.read_rows(data)
        assert str(rejected.value) == TOO_LARGE

    assert imports.read_rows(b"product_id,quantity,price\n") == []


def test_an_upload_too_large_to_read_fails_the_import_with_that_reason(imports, files, domain, stack):
    imports.create("import-1", "staff-0001")
    limit = domain("rules.imports").MAX_FILE_BYTES
    files.write(files.upload_key("import-1"), b"product_id,quantity,price\n".ljust(limit + 1, b"\n"), "text/csv")

    answer = domain("rules.import_jobs").prepare(imports, files, "import-1", files.upload_key("import-1"))

    assert answer == {
        "readable": False,
        "summary": {
            "import_id": "import-1",
            "status": "FAILED",
            "reason": TOO_LARGE,
            "rows_total": 0,
            "rows_imported": 0,
            "rows_rejected": 0,
            "chunks_total": 0,
            "chunks_done": 0,
        },
    }
    assert stored_item(stack, "import-1")["reason"] == TOO_LARGE
