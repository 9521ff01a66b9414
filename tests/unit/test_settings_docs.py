"""The declaration of the settings (shared/settings/declaration.py) against what documents and
deploys them: the README's settings table, local.settings.sample.json, infra/main.bicep and its
parameters, infra/README.md and docs/deploy-azure.md. Regenerate the README table and the sample
with `python -m shared.settings.documentation`."""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from devstack.local_settings import generated_values
from shared.settings import Settings, sections
from shared.settings.declaration import BY_NAME, SETTINGS, STORAGE_ACCOUNT_NAME
from shared.settings.documentation import documentation_entry, readme_table
from shared.settings.schema import ALWAYS, DEPLOYMENT, GENERATED, GENERATED_MASTER, HOST

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SAMPLE = ROOT / "local.settings.sample.json"
BICEP = ROOT / "infra" / "main.bicep"
BICEPPARAM = ROOT / "infra" / "main.bicepparam"
INFRA_README = ROOT / "infra" / "README.md"
DEPLOY_GUIDE = ROOT / "docs" / "deploy-azure.md"
REGENERATE = "run `python -m shared.settings.documentation`"


def markdown_section(path: Path, heading: str) -> str:
    section = re.search(rf"^{re.escape(heading)}\n(.*?)(?=^## |\Z)", path.read_text(), re.S | re.M)
    assert section, f"{path.name}: section {heading!r} missing"
    return section.group(1)


def table_rows(text: str) -> list[tuple[str, str, str]]:
    """(first cell's code, second cell, third cell or "") of each row whose first cell is one `code`."""
    return re.findall(r"^\| `([^`]+)` \| (.*?) \|(?: (.*) \|)?$", text, re.M)


def sample() -> dict:
    return json.loads(SAMPLE.read_text())


# ---------------------------------------------------------------- the declaration itself

def test_each_variable_is_declared_once():
    names = [setting.env for setting in SETTINGS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("section_class,section", [
    (sections.StorageSettings, "storage"), (sections.TrainingSettings, "training"),
    (sections.DeliverySettings, "delivery"), (sections.MonitoringSettings, "monitoring"),
    (sections.LocalSettings, "local"), (sections.AzureSettings, "azure"),
])
def test_each_section_holds_exactly_its_declared_fields(section_class, section):
    declared = [s.field for s in SETTINGS if s.section == section and s.field]
    assert [f.name for f in dataclasses.fields(section_class)] == declared


def test_the_top_level_fields_are_the_declared_ones_then_the_sections():
    declared = [s.field for s in SETTINGS if s.section == ""]
    sections_ = ["storage", "training", "delivery", "monitoring", "local", "azure"]
    assert [f.name for f in dataclasses.fields(Settings)] == declared + sections_


def test_only_host_settings_and_the_storage_account_stay_out_of_settings():
    outside = {s.env for s in SETTINGS if s.field is None}
    assert outside == {s.env for s in SETTINGS if s.section == HOST} | {STORAGE_ACCOUNT_NAME}


def test_required_settings_have_a_value_where_they_are_required():
    for setting in SETTINGS:
        if setting.required in (ALWAYS, "ML_BACKEND=local"):
            assert setting.sample_value, f"{setting.env}: required locally, but the sample has no value"
        if setting.required in (ALWAYS, "ML_BACKEND=azure"):
            assert setting.bicep_value is not None, f"{setting.env}: required in Azure, but main.bicep does not set it"


def test_no_secret_is_written_in_the_sample_or_main_bicep():
    for setting in (s for s in SETTINGS if s.secret):
        assert setting.sample_value in ("", None, GENERATED, GENERATED_MASTER, setting.default), setting.env
        assert setting.bicep_value in (None, DEPLOYMENT), setting.env


# ---------------------------------------------------------------- README.md

def readme_settings_table() -> str:
    section = markdown_section(README, "## Settings")
    table = re.search(r"^\| setting \| default \| meaning \|\n(?:^\|.*\n)*", section, re.M)
    assert table, "README.md: the '| setting | default | meaning |' table of '## Settings' is missing"
    return table.group(0)


def test_the_readme_lists_every_declared_setting_once_and_nothing_else():
    names = [name for name, _, _ in table_rows(readme_settings_table())]
    assert len(names) == len(set(names)), "listed twice: " + ", ".join({n for n in names if names.count(n) > 1})
    assert set(names) == set(BY_NAME), f"undeclared: {set(names) - set(BY_NAME)}; missing: {set(BY_NAME) - set(names)}"


def test_the_readme_shows_each_declared_default():
    for name, default, _ in table_rows(readme_settings_table()):
        setting = BY_NAME[name]
        if setting.required:
            assert default.startswith("required"), name
        elif setting.default:
            assert default.startswith(f"`{setting.default}`"), f"{name}: {default}"
        else:
            assert default.startswith("empty"), f"{name}: {default}"


def test_the_readme_table_is_rendered_from_the_declaration():
    assert readme_settings_table() == readme_table(), REGENERATE


# ---------------------------------------------------------------- local.settings.sample.json

def test_the_sample_values_are_the_declared_ones():
    declared = {s.env: s.sample_value for s in SETTINGS if s.sample_value is not None}
    assert sample()["Values"] == declared, REGENERATE


def test_the_sample_documents_every_declared_setting_with_its_default():
    documentation = sample()["Documentation"]
    assert set(documentation) == set(BY_NAME), REGENERATE
    for name, text in documentation.items():
        setting = BY_NAME[name]
        if setting.required:
            assert "Required" in text, name
        else:
            assert text.endswith(f"Default: {setting.default or 'empty'}."), f"{name}: {text}"
        assert text == documentation_entry(setting), REGENERATE


def test_the_sample_is_a_working_local_configuration():
    settings = Settings.from_env(generated_values())
    assert settings.ml_backend == "local" and settings.azure is None
    assert settings.training.quiet_period_seconds == float(BY_NAME["TRAINING_QUIET_PERIOD_SECONDS"].sample)


# ---------------------------------------------------------------- infra/main.bicep and its parameters

def bicep_app_settings() -> dict[str, str]:
    block = re.search(r"^var appSettings = \{\n(.*?)^\}", BICEP.read_text(), re.S | re.M)
    assert block, "main.bicep: var appSettings = { ... } not found"
    return dict(re.findall(r"^\s+([A-Za-z_][A-Za-z0-9_]*): (.+?)\s*$", block.group(1), re.M))


def bicep_parameter_defaults() -> dict[str, str | None]:
    """{parameter: its default expression, None when it has none}."""
    found = re.findall(r"^param (\w+) \w+(?: = (.+?))?\s*$", BICEP.read_text(), re.M)
    return {name: default or None for name, default in found}


def literal(expression: str) -> str | None:
    """The text of a Bicep string, number or bool literal; None for any other expression."""
    text = re.fullmatch(r"'([^'\\]*)'", expression)
    if text and "${" not in text.group(1):
        return text.group(1)
    return expression if re.fullmatch(r"-?\d+(\.\d+)?|true|false", expression) else None


def parameter_of(expression: str) -> str | None:
    """The parameter an app setting takes its value from (`name` or `string(name)`)."""
    match = re.fullmatch(r"(?:string\((\w+)\)|(\w+))", expression)
    name = match and (match.group(1) or match.group(2))
    return name if name in bicep_parameter_defaults() else None


def constant_value(expression: str) -> str | None:
    """What main.bicep sets when that is a constant (a literal, or a parameter's literal default)."""
    parameter = parameter_of(expression)
    if parameter:
        default = bicep_parameter_defaults()[parameter]
        return literal(default) if default else None
    return literal(expression)


def test_main_bicep_sets_only_declared_settings():
    undeclared = set(bicep_app_settings()) - set(BY_NAME)
    assert not undeclared, f"declare these in shared/settings/declaration.py: {sorted(undeclared)}"


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.env)
def test_main_bicep_sets_the_declared_azure_value(setting):
    app_settings = bicep_app_settings()
    declared = setting.bicep_value
    if declared is None:
        assert setting.env not in app_settings, f"{setting.env} is declared as not set in Azure"
        return
    assert setting.env in app_settings, f"{setting.env} is declared as set in Azure"
    value = constant_value(app_settings[setting.env])
    if declared is DEPLOYMENT:
        assert value is None, f"{setting.env}: main.bicep sets the constant {value!r}; declared: from the deployment"
    else:
        assert value == declared, f"{setting.env}: main.bicep sets {value!r}; declared: {declared!r}"


def test_main_bicepparam_gives_the_declared_azure_values():
    given = dict(re.findall(r"^param (\w+) = (.+?)\s*$", BICEPPARAM.read_text(), re.M))
    checked = 0
    for name, expression in bicep_app_settings().items():
        parameter = parameter_of(expression)
        declared = BY_NAME[name].bicep_value
        if parameter in given and isinstance(declared, str) and literal(given[parameter]) is not None:
            assert literal(given[parameter]) == declared, f"main.bicepparam {parameter} (→ {name}); declared: {declared!r}"
            checked += 1
    assert checked >= 10, "main.bicepparam: expected its literal parameters behind app settings"


# ---------------------------------------------------------------- infra/README.md, docs/deploy-azure.md

def test_the_infra_readme_parameter_defaults_are_the_declared_azure_values():
    rows = table_rows(markdown_section(INFRA_README, "## Parameters"))
    checked = 0
    for parameter, default, meaning in rows:
        target = re.match(r"→ `(\w+)`", meaning)
        declared = BY_NAME[target.group(1)].bicep_value if target else None
        if isinstance(declared, str):
            assert default == f"`{declared}`", f"infra/README.md {parameter}: {default}; declared: {declared!r}"
            checked += 1
    assert checked >= 10


def test_the_infra_readme_lists_each_app_setting_with_its_constant_value():
    rows = table_rows(markdown_section(INFRA_README, "## App settings set by main.bicep"))
    names = [name for name, _, _ in rows]
    assert sorted(names) == sorted(bicep_app_settings())
    for name, value, _ in rows:
        expression = bicep_app_settings()[name]
        if literal(expression) is not None:
            assert value.startswith(f"`{literal(expression)}`"), f"infra/README.md {name}: {value}"


def test_the_infra_readme_lists_the_settings_not_set_in_azure_with_their_defaults():
    rows = table_rows(markdown_section(INFRA_README, "## Settings not set in Azure"))
    local_only = ("LOCAL_", "MLFLOW_")
    expected = {s.env for s in SETTINGS if s.bicep_value is None and not s.env.startswith(local_only)}
    assert {name for name, _, _ in rows} == expected
    for name, why, _ in rows:
        if BY_NAME[name].default and not BY_NAME[name].required:
            assert f"`{BY_NAME[name].default}`" in why, f"infra/README.md {name}: the default is missing"


def test_the_deploy_guide_quotes_the_declared_values():
    text = DEPLOY_GUIDE.read_text()
    quoted = re.findall(r"`(\w+)`,?\s+\((?:default\s+)?`([^`]+)`\)|`(\w+)`,?\s+default\s+`([^`]+)`", text)
    # the parameters of main.bicep stand for the settings they set
    setting_of = {parameter_of(expression): name for name, expression in bicep_app_settings().items()}
    checked = 0
    for name_a, value_a, name_b, value_b in quoted:
        name, value = setting_of.get(name_a or name_b, name_a or name_b), value_a or value_b
        if name in BY_NAME:
            setting = BY_NAME[name]
            assert value in (setting.default, setting.bicep_value), f"docs/deploy-azure.md {name}: {value!r}"
            checked += 1
    assert checked >= 4, "docs/deploy-azure.md: expected the settings it quotes with their values"
