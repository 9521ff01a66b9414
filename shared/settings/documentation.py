"""The README's settings table and local.settings.sample.json, rendered from the declaration.
`python -m shared.settings.documentation` rewrites both; tests/unit/test_settings_docs.py fails
while either differs from the declaration."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from shared.settings.declaration import SETTINGS
from shared.settings.schema import ALWAYS, DEPLOYMENT, GENERATED, GENERATED_MASTER, Kind, Setting

REPO_ROOT = Path(__file__).resolve().parents[2]
README = REPO_ROOT / "README.md"
SAMPLE = REPO_ROOT / "local.settings.sample.json"
TABLE_HEADER = "| setting | default | meaning |\n|---|---|---|\n"
# The table of the README's "## Settings" section: its header row up to the first line that is
# not a table row.
TABLE = re.compile(r"(^## Settings\n(?:(?!^## ).*\n)*?)(^\| setting \| default \| meaning \|\n(?:^\|.*\n)*)", re.M)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def kind_hint(kind: Kind) -> str:
    """What values the kind accepts, in words ("" when the doc line says it all)."""
    codes = ", ".join(f"`{value}`" for value in kind.allowed)
    bounds = f"from {_number(kind.low)} to {_number(kind.high)}" if kind.low is not None else ""
    return {
        "choice": f"one of {codes}",
        "choices": f"any of {codes}, comma-separated (empty: none)",
        "int": f"an integer {bounds}",
        "float": f"a number {bounds}",
        "container": "a blob container name",
        "endpoint_name": "an Azure ML endpoint name",
        "url": "an http(s) URL",
        "base_url": "an http(s) URL",
        "optional_url": "an http(s) URL",
        "text": f"at least {kind.min_length} characters" if kind.min_length else "",
    }.get(kind.name, "")


def meaning(setting: Setting) -> str:
    hint = kind_hint(setting.kind)
    return f"{setting.doc}; {hint}" if hint else setting.doc


def requirement(setting: Setting) -> str:
    """"required", "required with `ML_BACKEND=azure`", or "" when the setting is optional."""
    if not setting.required:
        return ""
    return "required" if setting.required == ALWAYS else f"required with `{setting.required}`"


def default_cell(setting: Setting) -> str:
    """The README's default: the declared one (or "required ..."/"empty"), then where the local
    sample or main.bicep give another value."""
    cell = requirement(setting) or (f"`{setting.default}`" if setting.default else "empty")
    others = []
    sample = setting.sample_value
    if sample in (GENERATED, GENERATED_MASTER):
        others.append("sample: generated" + (", the master key" if sample == GENERATED_MASTER else ""))
    elif sample is not None and sample != setting.default:
        others.append(f"sample: `{sample}`")
    bicep = setting.bicep_value
    if bicep is DEPLOYMENT:
        others.append("Azure: from the deployment")
    elif isinstance(bicep, str) and bicep != setting.default:
        others.append(f"Azure: `{bicep}`")
    if others == [f"sample: `{bicep}`", f"Azure: `{bicep}`"]:
        others = [f"sample and Azure: `{bicep}`"]
    return f"{cell} ({'; '.join(others)})" if others else cell


def readme_table() -> str:
    rows = [f"| `{s.env}` | {default_cell(s)} | {meaning(s)} |\n" for s in SETTINGS]
    return TABLE_HEADER + "".join(rows)


def _sentence(text: str) -> str:
    text = text.replace("`", "")
    return text[:1].upper() + text[1:] + "."


def documentation_entry(setting: Setting) -> str:
    """The sample's Documentation text: the meaning, then the default (or when it is required)."""
    if setting.required:
        then = requirement(setting)
    else:
        then = f"default: {setting.default}" if setting.default else "default: empty"
    return f"{_sentence(meaning(setting))} {_sentence(then)}"


def sample_values() -> dict[str, str]:
    return {s.env: s.sample_value for s in SETTINGS if s.sample_value is not None}


def sample_documentation() -> dict[str, str]:
    return {s.env: documentation_entry(s) for s in SETTINGS}


def rendered_sample(current: dict) -> dict:
    """`current` (the sample's other blocks kept) with Values and Documentation from the declaration."""
    return {**current, "Values": sample_values(), "Documentation": sample_documentation()}


def rendered_readme(text: str) -> str:
    if not TABLE.search(text):
        raise ValueError("README.md: no '| setting | default | meaning |' table under '## Settings'")
    return TABLE.sub(lambda match: match.group(1) + readme_table(), text, count=1)


def main() -> None:
    README.write_text(rendered_readme(README.read_text()))
    sample = json.loads(SAMPLE.read_text())
    SAMPLE.write_text(json.dumps(rendered_sample(sample), indent=2, ensure_ascii=False) + "\n")
    print(f"{README.name} settings table and {SAMPLE.name} rewritten from the declaration", file=sys.stderr)


if __name__ == "__main__":
    main()
