"""`make import FILE=...` against the local stack, as staff would run it: the command signs in, opens
the import, uploads the file, follows it and prints the summary and the rejected rows."""

import subprocess
import sys
import uuid

import pytest

from local_stack.cloudformation.template import PROJECT_ROOT


def run_import(local, file):
    """`python -m tools.import_stock FILE` (what `make import` runs) against this local stack."""
    command = [sys.executable, "-m", "tools.import_stock", str(file), "--outputs-file", str(local.outputs_file)]
    return subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=180, check=False)


@pytest.fixture
def staff(local):
    return local.token("grace@example.com", "Grace", staff=True)


def test_an_import_with_a_rejected_row_imports_the_rest_and_lists_it(local, staff, tmp_path):
    good, bad = f"imp-{uuid.uuid4().hex[:8]}", f"imp-{uuid.uuid4().hex[:8]}"
    file = tmp_path / "stock.csv"
    file.write_text(f"product_id,quantity,price\n{good},7,3.50\n{bad},-1,2.00\n{good}-2,1,0.99\n")

    finished = run_import(local, file)

    assert finished.returncode == 2, finished.stdout + finished.stderr
    lines = finished.stdout.splitlines()
    import_id = lines[0].split()[1].rstrip(":")
    assert lines[0] == f"Import {import_id}: {file} uploaded ({file.stat().st_size} bytes)"
    assert f"Import {import_id} COMPLETED_WITH_ERRORS: 2 of 3 rows imported, 1 rejected" in lines
    rejected = lines[lines.index("Rejected rows (row numbers count data rows from 1):") + 1 :]
    assert rejected == ["  row 2: quantity: must be a whole number from 0"]
    assert local.back_office("GET", f"/inventory/{good}", staff).json() == {
        "product_id": good,
        "quantity": 7,
        "price": 3.5,
    }
    assert local.back_office("GET", f"/inventory/{bad}", staff).status_code == 404


def test_a_file_that_is_not_the_import_csv_fails_with_its_reason(local, tmp_path):
    file = tmp_path / "stock.csv"
    file.write_text("sku,count\nx,1\n")

    finished = run_import(local, file)

    assert finished.returncode == 1, finished.stdout + finished.stderr
    [summary] = [line for line in finished.stdout.splitlines() if " FAILED: " in line]
    assert summary.endswith("FAILED: the header must be product_id,quantity,price (found sku,count)")


def test_a_missing_file_is_refused_before_anything_is_opened(local, tmp_path):
    finished = run_import(local, tmp_path / "nowhere.csv")

    assert finished.returncode == 1
    assert finished.stdout.strip() == f"make import: {tmp_path / 'nowhere.csv'}: no such file"
