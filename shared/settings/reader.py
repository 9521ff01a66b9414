"""Reads the declared settings from an environment mapping. Each value is parsed and checked by
its kind; the first bad or missing one raises SettingsError naming its variable."""
from __future__ import annotations

from typing import Callable, Mapping

from shared.domain.errors import InvalidInput
from shared.domain.naming import validate_endpoint_name
from shared.settings.declaration import BY_NAME, SETTINGS, STORAGE_ACCOUNT_NAME
from shared.settings.errors import SettingsError
from shared.settings.schema import ALWAYS, SECTION_CONDITIONS, Setting
from shared.settings.secret import Secret

KEY_VAULT_REFERENCE = "@Microsoft.KeyVault("


def read_sections(env: Mapping[str, str]) -> dict[str, dict[str, object] | None]:
    """{section: {field: value}} of every declared setting read into `Settings` ("": top level);
    a section whose condition does not hold (azure without ML_BACKEND=azure) is None."""
    reader = _Reader(env)
    sections: dict[str, dict[str, object] | None] = {}
    for setting in SETTINGS:
        if setting.field is None:
            continue
        if setting.section not in sections:
            condition = SECTION_CONDITIONS.get(setting.section)
            sections[setting.section] = {} if condition is None or reader.holds(condition) else None
        fields = sections[setting.section]
        if fields is not None:
            fields[setting.field] = reader.read(setting)
    return sections


class _Reader:
    def __init__(self, env: Mapping[str, str]):
        self.env = env

    def read(self, setting: Setting) -> object:
        value = _PARSERS[setting.kind.name](self, setting)
        if setting.required and self.holds(setting.required):
            self._check_given(setting, value)
        return Secret(value) if setting.secret else value

    def holds(self, condition: str) -> bool:
        """ALWAYS, or "NAME=value": the (defaulted) text of another setting is that value."""
        if condition == ALWAYS:
            return True
        name, wanted = condition.split("=", 1)
        return self.text(BY_NAME[name]) == wanted

    def raw(self, name: str) -> str | None:
        value = self.env.get(name)
        if value is not None and value.strip().startswith(KEY_VAULT_REFERENCE):
            # App Service leaves the reference text in place when it cannot resolve it.
            raise SettingsError(f"{name}: the Key Vault reference was not resolved (check the app's "
                                "identity has 'Key Vault Secrets User' and the secret exists)")
        return None if value is None or value.strip() == "" else value.strip()

    @staticmethod
    def _check_given(setting: Setting, value: str) -> None:
        length = setting.kind.min_length
        if len(value) < max(length, 1):
            when = "" if setting.required == ALWAYS else f" with {setting.required}"
            at_least = f", at least {length} characters" if length else ""
            raise SettingsError(f"{setting.env}: required{when}{at_least} ({setting.plain_doc})")

    def text(self, setting: Setting) -> str:
        return self.raw(setting.env) or setting.default

    def storage_connection(self, setting: Setting) -> str:
        """AzureWebJobsStorage, or the account URL behind an identity-based connection (Flex Consumption)."""
        account = self.raw(STORAGE_ACCOUNT_NAME)
        if self.raw(setting.env) is None and account:
            return f"https://{account}.blob.core.windows.net"
        return self.text(setting)

    def choice(self, setting: Setting) -> str:
        value = self.text(setting)
        if value not in setting.kind.allowed:
            raise SettingsError(f"{setting.env}: must be one of {', '.join(setting.kind.allowed)}; got {value!r}")
        return value

    def choices(self, setting: Setting) -> frozenset[str]:
        """A comma-separated subset of the allowed values; set but empty means none."""
        raw = self.env.get(setting.env)
        value = setting.default if raw is None else raw
        picked = frozenset(part.strip() for part in value.split(",") if part.strip())
        unknown = sorted(picked - set(setting.kind.allowed))
        if unknown:
            raise SettingsError(f"{setting.env}: unknown {', '.join(unknown)}; "
                                f"choose from {', '.join(setting.kind.allowed)}")
        return picked

    def integer(self, setting: Setting) -> int | None:
        return self._number(setting, int)

    def number(self, setting: Setting) -> float | None:
        return self._number(setting, float)

    def _number(self, setting: Setting, kind: Callable[[str], int | float]) -> int | float | None:
        """The number, within the kind's bounds; unset: the default (None when there is none)."""
        raw = self.raw(setting.env)
        if raw is None:
            return kind(setting.default) if setting.default else None
        try:
            value = kind(raw)
        except ValueError:
            raise SettingsError(f"{setting.env}: expected {kind.__name__}; got {raw!r}") from None
        low, high = setting.kind.low, setting.kind.high
        if not low <= value <= high:
            raise SettingsError(f"{setting.env}: must be between {low} and {high}; got {raw}")
        return value

    def container(self, setting: Setting) -> str:
        value = self.text(setting)
        valid = 3 <= len(value) <= 63 and value[0].isalnum() and "--" not in value
        if not valid or not all(c.islower() or c.isdigit() or c == "-" for c in value):
            raise SettingsError(
                f"{setting.env}: {value!r} is not a valid container name "
                "(3-63 lowercase letters, digits and single dashes)"
            )
        return value

    def endpoint_name(self, setting: Setting) -> str:
        """An Azure ML endpoint name (shared.domain.naming's rules)."""
        try:
            return validate_endpoint_name(self.text(setting))
        except InvalidInput as error:
            raise SettingsError(f"{setting.env}: {error.message}") from None

    def url(self, setting: Setting) -> str:
        value = self.text(setting)
        if not value.startswith(("http://", "https://")):
            raise SettingsError(f"{setting.env}: expected an http(s) URL; got {value[:40]!r}")
        return value

    def base_url(self, setting: Setting) -> str:
        return self.url(setting).rstrip("/")

    def optional_url(self, setting: Setting) -> str:
        return self.url(setting) if self.raw(setting.env) else ""


_PARSERS: dict[str, Callable[[_Reader, Setting], object]] = {
    "text": _Reader.text,
    "storage_connection": _Reader.storage_connection,
    "choice": _Reader.choice,
    "choices": _Reader.choices,
    "int": _Reader.integer,
    "float": _Reader.number,
    "container": _Reader.container,
    "endpoint_name": _Reader.endpoint_name,
    "url": _Reader.url,
    "base_url": _Reader.base_url,
    "optional_url": _Reader.optional_url,
}
