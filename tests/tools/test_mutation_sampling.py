"""make mutation --sample N --seed S: N mutants of each area drawn uniformly without replacement,
the same N for the same seed; each area's score with its 95 % Wilson interval and every survivor
that survivors.toml does not justify; survivors.toml loses only the keys that no mutant has."""

import json
import os
import random
import subprocess
import tomllib
from collections import Counter

import pytest

from local_stack.cloudformation.template import PROJECT_ROOT
from tools.mutation import mutmut_wrapping
from tools.mutation.judging import Outcome
from tools.mutation.sampling import Candidate, draw, prune, report, stale, wilson


def candidates(area, count, module):
    return [Candidate(area, f"{module}.py:f:{n:04}", f"{module}.x_f__mutmut_{n}", "target") for n in range(count)]


def test_each_area_draws_n_of_its_mutants_without_replacement_the_same_for_the_same_seed():
    population = candidates("domain", 500, "orders") + candidates("functions", 30, "notify")
    drawn = draw(population, 40, seed=2026)
    assert len(drawn["domain"]) == len({candidate.key for candidate in drawn["domain"]}) == 40
    assert sorted(drawn["functions"], key=lambda c: c.key) == population[500:]  # fewer than N: all of them
    shuffled = population.copy()
    random.Random(1).shuffle(shuffled)
    assert draw(shuffled, 40, seed=2026) == drawn  # the order mutants are found in does not matter
    assert draw(population, 40, seed=2027)["domain"] != drawn["domain"]


def test_every_mutant_is_as_likely_to_be_drawn():
    population = candidates("domain", 20, "orders")
    counts = Counter(c.key for seed in range(2000) for c in draw(population, 5, seed)["domain"])
    assert len(counts) == 20
    assert all(400 < count < 600 for count in counts.values())  # 500 expected, 19 the standard deviation


def test_the_interval_is_wilsons_and_385_mutants_give_five_points_either_way():
    assert wilson(36, 40) == pytest.approx((0.76948, 0.96042), abs=1e-5)
    assert wilson(40, 40)[0] == pytest.approx(40 / (40 + 1.959964**2))  # below 100 % when all are killed
    assert wilson(0, 10) == pytest.approx((0.0, 0.27753), abs=1e-5)
    low, high = wilson(193, 385)
    assert (high - low) / 2 == pytest.approx(0.05, abs=0.001)


def test_a_listed_survivor_is_justified_and_an_unlisted_one_is_shown_and_fails_the_run(capsys):
    outcomes = [
        Outcome("a.py:f:1", "domain", "mutmut", "killed (mutmut)", 2.0),
        Outcome("a.py:f:2", "domain", "mutmut", "survived", 5.0, "-return total + 1\n+return total - 1"),
        Outcome("a.py:f:3", "domain", "mutmut", "survived", 3.0),
        Outcome("a.py:f:4", "domain", "mutmut", "invalid", 1.0),
        Outcome("template.yaml:Q:5", "declarative", "extra-grant", "killed (static)", 0.5),
    ]
    justified = {"a.py:f:3": "equivalent"}
    assert report({"domain": 100, "declarative": 7}, outcomes, justified, seed=7) == 1
    printed = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[1:] for line in printed.splitlines() if line.startswith(("domain", "decl"))}
    # mutants, judged, killed, justified, survived, invalid, score, interval, median seconds
    assert rows["domain"] == ["100", "3", "1", "1", "1", "1", "66.7%", "20.8%-93.9%", "3.0"]
    assert rows["declarative"] == ["7", "1", "1", "0", "0", "0", "100.0%", "20.7%-100.0%", "0.5"]
    assert "seed 7" in printed
    assert "SURVIVED (domain): a.py:f:2 [mutmut] survived\n    -return total + 1\n    +return total - 1" in printed
    assert "a.py:f:3" not in printed
    assert report({"domain": 100}, [o for o in outcomes if o.key != "a.py:f:2"], justified, seed=7) == 0


def test_stale_keys_are_pruned_and_every_other_line_kept_as_written(tmp_path):
    survivors = tmp_path / "survivors.toml"
    text = (
        "# why each survivor lives\n"
        'baseline_revision = { declarative = "abc" }\n'
        "survivor = [\n"
        '    { key = "a.py:f:1", reason = "equivalent: one" },\n'
        '    { key = "template.yaml:Queue:2", reason = "two" },\n'
        '    { key = "a.py:g:3", reason = "three" },\n'
        "]\n"
    )
    survivors.write_text(text)
    listed = [entry["key"] for entry in tomllib.loads(text)["survivor"]]
    population = [Candidate("domain", "a.py:f:1", "a.x_f__mutmut_1")]
    keys = stale(listed, population, enumerated=lambda key: not key.startswith("template.yaml"))
    assert keys == ["a.py:g:3"]  # the template was not enumerated: its key is not judged stale
    prune(survivors, keys)
    assert survivors.read_text() == text.replace('    { key = "a.py:g:3", reason = "three" },\n', "")
    assert [entry["key"] for entry in tomllib.loads(survivors.read_text())["survivor"]] == listed[:2]


def test_mutmut_generate_makes_every_mutant_and_judges_none(tmp_path):
    """The wrapper's `generate` (mutmut's environment: make test installs it): the .meta file names
    every mutant of the file, none with a verdict, and no test ran (no stats)."""
    python = PROJECT_ROOT / ".venv-mutation" / "bin" / "python"
    assert python.exists(), "mutmut's environment is missing: make test installs it"
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "prices.py").write_text("def total(price, quantity):\n    return price * quantity + 1\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_prices.py").write_text("def test_total():\n    raise AssertionError('ran')\n")
    (tmp_path / "pyproject.toml").write_text('[tool.mutmut]\nsource_paths = ["shop"]\n')
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    command = [python, "-P", mutmut_wrapping.__file__, "generate"]
    subprocess.run(command, cwd=tmp_path, env=environment, capture_output=True, check=True)
    verdicts = json.loads((tmp_path / "mutants" / "shop" / "prices.py.meta").read_text())["exit_code_by_key"]
    assert len(verdicts) >= 3
    assert list(verdicts) == [f"shop.prices.x_total__mutmut_{n}" for n in range(1, len(verdicts) + 1)]
    assert set(verdicts.values()) == {None}
    assert not (tmp_path / "mutants" / "mutmut-stats.json").exists()
