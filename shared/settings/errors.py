"""The one error of the settings."""


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""
