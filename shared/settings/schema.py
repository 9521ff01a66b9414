"""What a declared setting is: its variable, its place in `Settings`, how its value is read and
checked, its default, its documentation, when it is required, and the values the local sample
and the Bicep deployment give it."""
from __future__ import annotations

from dataclasses import dataclass

ALWAYS = "always"
# The section of the settings the Functions host (timer bindings, host storage, the local host)
# reads: declared and documented here, never read into `Settings`.
HOST = "host"
# A section read only under a condition; otherwise it is None in `Settings`.
SECTION_CONDITIONS = {"azure": "ML_BACKEND=azure"}


class _Marker:
    def __init__(self, meaning: str):
        self.meaning = meaning

    def __repr__(self) -> str:
        return f"<{self.meaning}>"


# Sample or Bicep value: the declared default.
DEFAULT = _Marker("the default")
# Bicep value: not a constant, but derived from the deployment (a resource, a required parameter,
# a Key Vault reference).
DEPLOYMENT = _Marker("from the deployment")
# Sample values that devstack.local_settings replaces with fresh secrets (master: the local host's
# master key, shared by every setting that has this placeholder).
GENERATED = "<generated>"
GENERATED_MASTER = "<generated:master>"


@dataclass(frozen=True)
class Kind:
    """How a value is read and checked: its parser's name and that parser's limits."""

    name: str
    allowed: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    min_length: int = 0


TEXT = Kind("text")
URL = Kind("url")
BASE_URL = Kind("base_url")  # an http(s) URL without its trailing slash
OPTIONAL_URL = Kind("optional_url")
CONTAINER = Kind("container")
ENDPOINT_NAME = Kind("endpoint_name")
STORAGE_CONNECTION = Kind("storage_connection")
NCRONTAB = Kind("ncrontab")
OPTIONAL_FRACTION = Kind("float", low=0, high=1)


def choice(allowed: tuple[str, ...]) -> Kind:
    return Kind("choice", allowed=allowed)


def choices(allowed: tuple[str, ...]) -> Kind:
    """A comma-separated subset of `allowed`; empty means none."""
    return Kind("choices", allowed=allowed)


def integer(low: int, high: int) -> Kind:
    return Kind("int", low=low, high=high)


def number(low: float, high: float) -> Kind:
    return Kind("float", low=low, high=high)


def key(min_length: int) -> Kind:
    return Kind("text", min_length=min_length)


@dataclass(frozen=True)
class Setting:
    """One app setting, declared once.

    `field`: its attribute in its section of `Settings` (None: not read into `Settings`).
    `default`: the text used when the variable is unset or empty ("": none).
    `required`: "", ALWAYS, or a condition "NAME=value" on another setting.
    `sample`: its value in local.settings.sample.json (None: not there).
    `bicep`: its value in main.bicep's app settings (None: not set in Azure).
    """

    env: str
    field: str | None
    kind: Kind
    default: str
    doc: str
    required: str = ""
    secret: bool = False
    sample: str | None | _Marker = DEFAULT
    bicep: str | None | _Marker = DEFAULT
    section: str = ""

    @property
    def plain_doc(self) -> str:
        """The doc line without its Markdown code marks (for JSON and error messages)."""
        return self.doc.replace("`", "")

    @property
    def sample_value(self) -> str | None:
        return self.default if self.sample is DEFAULT else self.sample

    @property
    def bicep_value(self) -> str | None | _Marker:
        return self.default if self.bicep is DEFAULT else self.bicep
