"""The Python part of `make mutation`: which functions a change selects, keys that hold when mutmut
renumbers, our own mutants of what mutmut leaves alone, and how the shards' outcomes are scored."""

import json
import subprocess
import sys
import textwrap
import tomllib

import pytest

from local_stack.cloudformation.template import PROJECT_ROOT
from support.instances import warm_instance
from tools.mutation import __main__ as mutation
from tools.mutation import code
from tools.mutation.changed_functions import (
    changed_lines,
    mutmut_functions,
    mutmut_pattern,
    mutmut_sources,
    qualified_name,
    touched,
)
from tools.mutation.code import targets
from tools.mutation.code_operators import declaration_mutants, key

ORDERS = textwrap.dedent("""\
    import functools


    def total(lines):
        return sum(line.amount for line in lines)


    @functools.cache
    def catalog():
        return {"sku-1": 10}


    @logger.inject_lambda_context(correlation_id_path="order_id")
    def lambda_handler(event, context):
        return {"order_id": event["order_id"]}


    class Order:
        status = "NEW"

        @staticmethod
        def cancel(order):
            order.status = "CANCELLED"
            return order

        def confirm(self):
            self.status = "CONFIRMED"
            return self
""")


def committed(tmp_path, source):
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "orders.py").write_text(source)
    subprocess.run(["git", "add", "."], cwd=tmp_path, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base"], cwd=tmp_path, check=True
    )


def test_a_change_selects_the_functions_it_touches_and_only_them(tmp_path):
    committed(tmp_path, ORDERS)
    changed = ORDERS.replace('order.status = "CANCELLED"', 'order.status = "CANCELED"')
    (tmp_path / "orders.py").write_text(changed)
    assert touched(changed, changed_lines(tmp_path, "HEAD", "orders.py")) == ["Order.cancel"]


def test_a_deleted_line_touches_its_function_and_a_class_attribute_touches_no_function(tmp_path):
    committed(tmp_path, ORDERS)
    changed = ORDERS.replace('        self.status = "CONFIRMED"\n', "").replace('status = "NEW"', 'status = "OPEN"')
    (tmp_path / "orders.py").write_text(changed)
    assert touched(changed, changed_lines(tmp_path, "HEAD", "orders.py")) == ["Order.confirm"]


def test_every_function_mutmut_mutates_without_a_revision_but_not_one_whose_decorator_keeps_results():
    assert touched(ORDERS, None) == ["total", "lambda_handler", "Order.cancel", "Order.confirm"]


def test_a_change_to_a_cached_function_selects_nothing_for_mutmut(tmp_path):
    committed(tmp_path, ORDERS)
    changed = ORDERS.replace('{"sku-1": 10}', '{"sku-1": 11}')
    (tmp_path / "orders.py").write_text(changed)
    assert touched(changed, changed_lines(tmp_path, "HEAD", "orders.py")) == []


def test_mutmut_names_the_mutants_of_functions_and_methods_by_module():
    assert mutmut_pattern("orders_domain.pricing", "quote") == "orders_domain.pricing.x_quote__mutmut_*"
    assert mutmut_pattern("routers.orders", "Order.cancel") == "routers.orders.xǁOrderǁcancel__mutmut_*"
    assert qualified_name("routers.orders.xǁOrderǁcancel__mutmut_12") == "Order.cancel"
    assert qualified_name("orders_domain.pricing.x_line_total__mutmut_3") == "line_total"


def mutmut_file(number, other_line="taxed = 0"):
    """What mutmut writes: the original and a mutant side by side, under its own names."""
    return textwrap.dedent(f"""\
        def x_quote__mutmut_orig(lines):
            {other_line}
            return sum(lines) + 1
        def x_quote__mutmut_{number}(lines):
            {other_line}
            return sum(lines) - 1
    """)


def test_a_mutant_keeps_its_key_when_mutmut_renumbers_it_or_another_line_changes():
    def key_of(number, other_line="taxed = 0"):
        name = f"orders_domain.pricing.x_quote__mutmut_{number}"
        before, after = mutmut_sources(mutmut_functions(mutmut_file(number, other_line)), name)
        return key("layers/common/orders_domain/pricing.py", qualified_name(name), before, after)

    first = key_of(3)
    assert first.startswith("layers/common/orders_domain/pricing.py:quote:")
    assert key_of(7) == first
    assert key_of(3, other_line="taxed = 1") == first


def test_different_changes_of_one_function_have_different_keys():
    original = "def quote(lines):\n    return sum(lines) + 1\n"
    plus_two = key("pricing.py", "quote", original, original.replace("+ 1", "+ 2"))
    minus_one = key("pricing.py", "quote", original, original.replace("+ 1", "- 1"))
    assert plus_two != minus_one


MODELS = textwrap.dedent("""\
    from typing import Annotated

    from pydantic import BaseModel, ConfigDict, Field

    MAX_LINE_QUANTITY = 1_000
    retry_delay = 5


    class OrderLine(BaseModel):
        model_config = ConfigDict(extra="forbid")

        quantity: Annotated[int, Field(ge=1, le=MAX_LINE_QUANTITY)]
        sku: str = Field(max_length=64)


    def parse(body):
        return OrderLine.model_validate(body, strict=True, extra=Field(le=3))
""")


def test_declarations_get_their_bounds_one_step_either_way_and_forbid_made_ignore():
    found = {(m.owner, m.operator): m for m in declaration_mutants("models.py", MODELS)}
    assert sorted(found) == [
        ("MAX_LINE_QUANTITY", "number-minus-one"),
        ("MAX_LINE_QUANTITY", "number-plus-one"),
        ("OrderLine.model_config", "extra-ignored"),
        ("OrderLine.quantity", "number-minus-one"),
        ("OrderLine.quantity", "number-plus-one"),
        ("OrderLine.sku", "number-minus-one"),
        ("OrderLine.sku", "number-plus-one"),
    ]
    assert "MAX_LINE_QUANTITY = 1001\n" in found["MAX_LINE_QUANTITY", "number-plus-one"].applied(MODELS)
    assert "Field(ge=0, le=MAX_LINE_QUANTITY)" in found["OrderLine.quantity", "number-minus-one"].applied(MODELS)
    assert 'ConfigDict(extra="ignore")' in found["OrderLine.model_config", "extra-ignored"].applied(MODELS)
    assert found["OrderLine.sku", "number-plus-one"].key.startswith("models.py:OrderLine.sku:")
    assert len({m.key for m in found.values()}) == len(found)


def test_a_declaration_mutant_keeps_its_key_when_lines_above_it_move():
    [moved] = [m for m in declaration_mutants("models.py", "\n\n" + MODELS) if m.operator == "extra-ignored"]
    [mutant] = [m for m in declaration_mutants("models.py", MODELS) if m.operator == "extra-ignored"]
    assert moved.key == mutant.key
    assert moved.lines != mutant.lines


def test_each_python_target_is_counted_from_its_own_last_whole_run():
    """An incremental run of a target selects what changed since that target's whole run: every
    target needs one (a revision, in full), and a target without one would fail the run."""
    revisions = tomllib.loads((PROJECT_ROOT / "tools/mutation/survivors.toml").read_text())["baseline_revision"]
    assert set(revisions) == {"declarative"} | {target.name for target in targets(PROJECT_ROOT)}
    assert all(len(revision) == 40 and int(revision, 16) >= 0 for revision in revisions.values())
    selection = code.Selection({"functions": None, "orders_domain": revisions["orders_domain"]}, match="")
    [functions] = [target for target in targets(PROJECT_ROOT) if target.name == "functions"]
    assert selection.lines(functions, "src/notify/notify.py") is None  # every line of a target run whole


def test_a_match_is_a_regular_expression_that_selects_a_share_of_a_target():
    """The scheduled job's shards: one selects two functions of a file, another the rest of it."""
    [functions] = [target for target in targets(PROJECT_ROOT) if target.name == "functions"]
    every = {target.name: None for target in targets(PROJECT_ROOT)}
    two = code.patterns(functions, code.Selection(every, match=r"^src/api/http_api\.py:(configure|known_error)\b"))
    assert two == ["http_api.x_configure__mutmut_*", "http_api.x_known_error__mutmut_*"]
    rest = code.patterns(functions, code.Selection(every, match=r"^src/api/http_api\.py:(?!(configure|known_error)\b)"))
    assert "http_api.x_malformed_path_parameters__mutmut_*" in rest
    assert not set(two) & set(rest)
    assert len(code.patterns(functions, code.Selection(every, match="http_api"))) == len(two) + len(rest)


@pytest.mark.slow
def test_the_shards_saved_outcomes_are_scored_as_one_run(tmp_path, monkeypatch, capsys):
    """--score: the outcomes that each shard saved (--save), reported per area as one run's, and a
    survivor of any shard not in survivors.toml fails it."""
    listed = tomllib.loads((PROJECT_ROOT / "tools/mutation/survivors.toml").read_text())["survivor"][0]["key"]

    def outcome(key, verdict):
        return {"key": key, "area": "domain", "operator": "mutmut", "verdict": verdict, "seconds": 1.0}

    first, second = tmp_path / "mutation-a.json", tmp_path / "mutation-b.json"
    first.write_text(json.dumps([outcome("a.py:f:1", "killed (mutmut)"), outcome(listed, "survived")]))
    second.write_text(json.dumps([outcome("b.py:g:2", "killed (timeout)"), outcome("b.py:g:3", "killed (mutmut)")]))

    def score(*files):
        """`python -m tools.mutation --score FILES`: its exit code and output."""
        monkeypatch.setattr(sys, "argv", ["python -m tools.mutation", "--score", *map(str, files)])
        code = mutation.main()
        return code, capsys.readouterr().out

    def row(output):
        [line] = [line for line in output.splitlines() if line.startswith("domain ")]
        return line.split()[1:]  # mutants, killed, justified, score

    returned, output = score(first, second)
    assert returned == 0, output
    assert row(output) == ["4", "3", "1", "100%"]
    assert output.endswith("4 mutants\n")
    second.write_text(json.dumps([outcome("b.py:g:4", "survived")]))
    returned, output = score(first, second)
    assert returned == 1
    assert row(output) == ["3", "1", "1", "67%"]
    assert "NEW SURVIVED: b.py:g:4 [mutmut]" in output


def test_a_function_judged_by_mutmut_runs_the_mutant_not_the_warm_original(stack, monkeypatch):
    """mutmut names the mutant it judges in MUTANT_UNDER_TEST, after a clean run that warmed the
    function instances; an instance runs its handler in the environment it started with, so a warm
    one would run the original code and every mutant reached through a function would survive."""
    spec = stack.functions["PriceQuoteFunction"]
    monkeypatch.delenv("MUTANT_UNDER_TEST", raising=False)
    warm = warm_instance(spec)
    assert warm_instance(spec) is warm  # the clean run: one instance for the session

    monkeypatch.setenv("MUTANT_UNDER_TEST", "orders_domain.rules.pricing.x_quote__mutmut_4")
    judged = warm_instance(spec)
    assert judged is not warm
    assert judged.environment["MUTANT_UNDER_TEST"] == "orders_domain.rules.pricing.x_quote__mutmut_4"
    assert "MUTANT_UNDER_TEST" not in warm.environment
