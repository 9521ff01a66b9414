"""The GitHub workflows: actionlint, plus structural facts read with yaml/json, and the app
settings the code reads against the ones infra/main.bicep sets."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
BICEP = ROOT / "infra" / "main.bicep"
INFRA_README = ROOT / "infra" / "README.md"

# Settings of the Azure backend (the Azure ML adapter reads them).
AZURE_SETTINGS = {
    "ML_BACKEND", "AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP", "AZUREML_WORKSPACE",
    "AZUREML_COMPUTE", "AZUREML_ENVIRONMENT", "AZUREML_INSTANCE_TYPE", "AZUREML_INSTANCE_COUNT",
    "AZUREML_DATASTORE",
}


def load(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as True
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(workflow: dict) -> list[dict]:
    return [s for job in workflow["jobs"].values() for s in job.get("steps", [])]


def uses(workflow: dict) -> list[str]:
    return [s["uses"] for s in steps(workflow) if "uses" in s]


def actionlint_binary() -> str | None:
    local = Path(sys.executable).parent / "actionlint"
    return str(local) if local.exists() else shutil.which("actionlint")


# ---------------------------------------------------------------- actionlint

def test_actionlint_passes():
    binary = actionlint_binary()
    assert binary, "actionlint is not installed: make setup installs it (requirements-lint.txt)"
    result = subprocess.run([binary, "-color=false"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_requirements_lint_pins_a_wheel_with_the_binary():
    lines = [l.strip() for l in (ROOT / "requirements-lint.txt").read_text().splitlines()
             if l.strip() and not l.startswith("#")]
    assert any(re.fullmatch(r"actionlint[\w-]*==[\d.]+", l) for l in lines), lines


# ---------------------------------------------------------------- structure

@pytest.mark.parametrize("name", ["ci.yml", "retrain-on-code-change.yml", "deploy.yml"])
def test_actions_pinned_by_major_version_and_python_311(name):
    workflow = load(name)
    for ref in uses(workflow):
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", ref), f"{name}: {ref} is not pinned to a major version tag"
    for step in steps(workflow):
        if step.get("uses", "").startswith("actions/setup-python@"):
            assert str(step["with"]["python-version"]) == "3.11"
    assert workflow.get("permissions"), f"{name}: explicit least-privilege permissions"


def test_ci_compiles_every_bicep_file():
    (lint,) = [s for s in load("ci.yml")["jobs"]["lint"]["steps"] if "az bicep build" in s.get("run", "")]
    run = lint["run"]
    assert run.index("az bicep install") < run.index("az bicep build")
    assert 'az bicep build --file "$file" --stdout > /dev/null' in run
    files = re.search(r"for file in (.*); do", run).group(1).split()
    assert files == ["infra/main.bicep", "infra/events.bicep", "infra/modules/*.bicep"]
    assert {p.name for p in (ROOT / "infra").glob("*.bicep")} == {"main.bicep", "events.bicep"}


def test_ci_runs_make_test_and_lint():
    ci = load("ci.yml")
    assert {"push", "pull_request"} <= set(ci["on"])
    runs = " ".join(s.get("run", "") for s in steps(ci))
    assert "make test" in runs and "make lint" in runs
    assert "requirements-lint.txt" in runs and "actionlint" in runs
    node = [s for s in steps(ci) if s.get("uses", "").startswith("actions/setup-node@")]
    assert node and all(str(s["with"]["node-version"]) == "20" for s in node)
    assert ci["permissions"] == {"contents": "read"}


def oidc_login(workflow: dict) -> dict:
    logins = [s for s in steps(workflow) if s.get("uses", "").lower().startswith("azure/login@")]
    assert len(logins) == 1
    return logins[0]


@pytest.mark.parametrize("name", ["retrain-on-code-change.yml", "deploy.yml"])
def test_oidc_login_without_client_secret(name):
    workflow = load(name)
    assert workflow["permissions"].get("id-token") == "write"
    login = oidc_login(workflow)["with"]
    assert set(login) == {"client-id", "tenant-id", "subscription-id"}  # no creds / client-secret


def test_retrain_on_training_code_change_runs_only_after_ci_passed_on_main():
    workflow = load("retrain-on-code-change.yml")
    # never on the push itself: code that failed CI must not train on the production training set
    assert set(workflow["on"]) == {"workflow_run", "workflow_dispatch"}
    assert workflow["on"]["workflow_run"] == {"workflows": ["CI"], "types": ["completed"], "branches": ["main"]}
    (job,) = workflow["jobs"].values()
    assert job["if"] == load("deploy.yml")["jobs"]["deploy"]["if"]  # success of a push's CI run, as deploy.yml
    assert "workflow_run.conclusion == 'success'" in job["if"] and "workflow_run.event == 'push'" in job["if"]
    # the tested commit, not main's newest one (GITHUB_SHA of a workflow_run event)
    checkout = job["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@") and checkout["with"]["fetch-depth"] == 0
    assert checkout["with"]["ref"] == job["env"]["SHA"] == "${{ github.event.workflow_run.head_sha || github.sha }}"
    assert "GITHUB_SHA" not in "\n".join(s.get("run", "") for s in job["steps"])
    # a commit that left training/ alone ends after the diff: nothing after it runs
    (changed,) = [s for s in job["steps"] if s.get("id") == "changed"]
    assert changed["if"] == "${{ github.event_name == 'workflow_run' }}"
    assert 'git diff --quiet "$base" "$SHA" -- training/' in changed["run"] and "train=false" in changed["run"]
    assert '"$SHA^"' in changed["run"]  # the parent when no earlier tested commit is an ancestor
    assert workflow["permissions"]["actions"] == "read"
    later = job["steps"][job["steps"].index(changed) + 1:]
    assert later and all("steps.changed.outputs.train != 'false'" in s["if"] for s in later), later


def test_retrain_on_training_code_change_trains_on_the_app_s_current_training_set():
    workflow = load("retrain-on-code-change.yml")
    runs = "\n".join(s.get("run", "") for s in steps(workflow))
    assert "pip install --quiet -r requirements.txt" in runs  # azure-ai-ml as the app has it
    assert "python infra/scripts/retrain_current.py" in runs and (ROOT / "infra/scripts/retrain_current.py").is_file()
    # no data asset folder mounted over the data container, no job.yml beside the app's builder
    assert "az ml job create" not in runs and "--label latest" not in runs and "uri_folder" not in runs
    (submit,) = [s for s in steps(workflow) if "retrain_current.py" in s.get("run", "")]
    assert submit["env"] == {"APP_FUNCTION_KEY": "${{ secrets.APP_FUNCTION_KEY }}"}  # the key only where it is used
    assert '--tag "requested_by=${REQUESTED_BY}"' in submit["run"]  # the requester may not approve (four eyes)
    (job,) = workflow["jobs"].values()
    assert job["env"]["REQUESTED_BY"] == "${{ github.event.workflow_run.actor.login || github.actor }}"
    assert "APP_FUNCTION_KEY" not in json.dumps(workflow.get("env", {}))
    assert workflow["env"]["APP_BASE_URL"] == "${{ vars.APP_BASE_URL }}"


def test_deploy_uses_protected_production_environment():
    workflow = load("deploy.yml")
    assert "workflow_dispatch" in workflow["on"]
    assert workflow["on"]["workflow_run"]["workflows"] == ["CI"]  # after CI
    (job,) = workflow["jobs"].values()
    env = job["environment"]
    assert (env["name"] if isinstance(env, dict) else env) == "production"
    publish = [s for s in job["steps"] if s.get("uses", "").startswith("Azure/functions-action@")]
    assert publish and publish[0]["with"]["sku"] == "flexconsumption"
    assert publish[0]["with"]["remote-build"] is True
    assert publish[0]["with"]["respect-funcignore"] is True  # .funcignore: tests, tools, data stay out
    runs = "\n".join(s.get("run", "") for s in job["steps"])
    assert "infra/main.bicepparam" in runs and "infra/events.bicepparam" in runs
    assert runs.count("az deployment group create") == 2


def test_deploy_smoke_check_probes_a_route_outside_sign_in_with_a_function_key():
    (job,) = load("deploy.yml")["jobs"].values()
    (smoke,) = [s for s in job["steps"] if s.get("name", "").startswith("Smoke check")]
    run = smoke["run"]
    # with authClientId any other route answers 302 (RedirectToLoginPage) whether the app runs or not
    authsettings = (ROOT / "infra" / "main.bicep").read_text().split("name: 'authsettingsV2'", 1)[1]
    excluded = re.search(r"excludedPaths: \[(.*?)\]", authsettings, re.S).group(1)
    assert "'/api/training-sets/current'" in excluded and '"$APP_URL/api/training-sets/current"' in run
    assert "/api/jobs" not in run and '"302"' not in run
    assert "--query functionKeys.default" in run and '-H "x-functions-key: $key"' in run
    assert run.index('echo "::add-mask::$key"') < run.index("curl ")
    assert '[ "$code" = "200" ]' in run and "jq -e 'has(\"error\")'" in run  # 404 only as the app's own answer
    assert "set -x" not in run and "GITHUB_OUTPUT" not in run


def test_deploy_creates_the_event_subscriptions_after_the_host_made_its_key():
    (job,) = load("deploy.yml")["jobs"].values()
    names = [s.get("id") or s.get("uses") or s["name"] for s in job["steps"]]
    main = next(i for i, s in enumerate(job["steps"]) if "infra/main.bicepparam" in s.get("run", ""))
    publish = names.index("publish")
    (events,) = [i for i, s in enumerate(job["steps"]) if "infra/events.bicepparam" in s.get("run", "")]
    assert main < publish < events
    run = job["steps"][events]["run"]
    # wake the host (admin API, master key) and wait for the key
    assert "--query masterKey" in run and "/admin/host/status" in run and "x-functions-key: $master" in run
    assert "--query systemKeys.blobs_extension" in run and re.search(r"for attempt in .*; do", run)
    # both keys masked before anything could print them; the key goes only to the deployment's environment
    assert run.index('echo "::add-mask::$master"') < run.index("/admin/host/status")
    assert run.index('echo "::add-mask::$key"') < run.index("az deployment group create")
    assert 'BLOBS_EXTENSION_KEY="$key" az deployment group create' in run
    assert "GITHUB_ENV" not in run and "GITHUB_OUTPUT" not in run and "set -x" not in run
    assert "BLOBS_EXTENSION_KEY" not in json.dumps(job.get("env", {}))
    # the deployment's values are the first deployment's outputs (names only)
    assert "infra-outputs.json" in job["steps"][main]["run"] and "infra-outputs.json" in run


# ---------------------------------------------------------------- app settings

def settings_read_by_code() -> set[str]:
    names = set(AZURE_SETTINGS)
    source = "\n".join(path.read_text() for path in (ROOT / "shared" / "settings").glob("*.py"))
    names |= set(re.findall(r'read\.\w+\(\s*"([A-Za-z_][A-Za-z0-9_]*)"', source))
    # every setting-like string literal (also those read through a mapping)
    names |= set(re.findall(r'"([A-Z][A-Z0-9]*_[A-Z0-9_]+|AzureWebJobs\w+)"', source))
    names |= binding_settings()
    sample = json.loads((ROOT / "local.settings.sample.json").read_text())
    names |= set(sample["Values"])
    # Local backend only (the local ML platform, the local host): never set in Azure.
    return {n for n in names if not n.startswith(("LOCAL_", "MLFLOW_"))}


def binding_settings() -> set[str]:
    """%NAME% expressions of the trigger bindings: the host resolves them from app settings."""
    source = "\n".join(p.read_text() for p in (ROOT / "blueprints").glob("*.py"))
    return set(re.findall(r'"[^"\n]*?%([A-Za-z_][A-Za-z0-9_]*)%', source))


def bicep_app_settings() -> set[str]:
    text = BICEP.read_text()
    block = re.search(r"^var appSettings = \{\n(.*?)^\}", text, re.S | re.M)
    assert block, "main.bicep: var appSettings = { ... } not found"
    return set(re.findall(r"^\s+([A-Za-z_][A-Za-z0-9_]*):", block.group(1), re.M))


def documented_not_set() -> set[str]:
    """Settings infra/README.md lists under 'Settings not set in Azure' (optional or replaced)."""
    text = INFRA_README.read_text()
    section = re.search(r"^## Settings not set in Azure\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert section, "infra/README.md: section '## Settings not set in Azure' missing"
    return set(re.findall(r"^\|\s*`([A-Za-z_][A-Za-z0-9_]*)`", section.group(1), re.M))


def test_every_setting_the_code_reads_is_set_or_documented():
    missing = settings_read_by_code() - bicep_app_settings() - documented_not_set()
    assert not missing, f"set these in main.bicep appSettings or document them in infra/README.md: {sorted(missing)}"


def test_settings_the_bindings_read_are_app_settings():
    settings = bicep_app_settings()
    assert {"TRAINING_SCHEDULER_SCHEDULE", "APPROVAL_SWEEPER_SCHEDULE", "DATA_CONTAINER"} <= binding_settings()
    missing = binding_settings() - settings
    assert not missing, f"bindings read these, so they must be app settings: {sorted(missing)}"
    assert AZURE_SETTINGS <= settings
    # identity-based host storage, never a connection string
    assert "AzureWebJobsStorage__accountName" in settings and "AzureWebJobsStorage" not in settings
    # Flex Consumption: the runtime lives in functionAppConfig, not in app settings
    assert "FUNCTIONS_WORKER_RUNTIME" not in settings and "FUNCTIONS_EXTENSION_VERSION" not in settings


def test_every_app_setting_is_documented_in_infra_readme():
    text = INFRA_README.read_text()
    undocumented = {s for s in bicep_app_settings() if f"`{s}`" not in text}
    assert not undocumented, sorted(undocumented)
