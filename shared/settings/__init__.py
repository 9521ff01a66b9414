"""The app's settings: declared once (declaration.py), read and checked (reader.py) into typed,
frozen sections (sections.py)."""
from shared.settings.errors import SettingsError
from shared.settings.secret import Secret
from shared.settings.sections import (
    AzureSettings, DeliverySettings, LocalSettings, MonitoringSettings, Settings, StorageSettings,
    TrainingSettings, get_settings,
)

__all__ = [
    "AzureSettings", "DeliverySettings", "LocalSettings", "MonitoringSettings", "Secret", "Settings",
    "SettingsError", "StorageSettings", "TrainingSettings", "get_settings",
]
