from __future__ import annotations

import pytest

from shared.settings import Secret, Settings, SettingsError

BASE = {"MLFLOW_WEBHOOK_SECRET": "s3cret", "APPROVAL_SIGNING_KEY": "k" * 32, "LOCAL_ENDPOINT_KEY": "endpoint-key"}


def test_defaults_are_the_local_stack():
    settings = Settings.from_env(BASE)
    assert settings.ml_backend == "local"
    assert settings.storage.data_container == "data"
    assert settings.local.mlflow_tracking_uri == "http://127.0.0.1:5000"


@pytest.mark.parametrize("name,value", [
    ("ML_BACKEND", "aws"),
    ("TRAINING_QUIET_PERIOD_SECONDS", "soon"),
    ("TRAINING_QUIET_PERIOD_SECONDS", "-1"),
    ("MAX_DATA_FILE_BYTES", "0"),
    ("MAX_NULL_SHARE", "1.5"),
    ("DATA_CONTAINER", "Data_Files"),
    ("MLFLOW_TRACKING_URI", "ftp://x"),
    ("TRAINING_ALGORITHM", "xgboost"),
    ("ENDPOINT_NAME", "9-starts-with-digit"),
    ("GATE_METRIC", "loss"),
    ("PROMOTION_MIRROR_PERCENT", "60"),
    ("APPROVAL_SIGNING_KEY", "short"),
    ("RETRAIN_TRIGGERS", "new_data,whim"),
    ("DRIFT_PSI_THRESHOLD", "2"),
])
def test_a_bad_value_fails_fast_naming_the_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({**BASE, name: value})


@pytest.mark.parametrize("missing", ["MLFLOW_WEBHOOK_SECRET", "APPROVAL_SIGNING_KEY", "LOCAL_ENDPOINT_KEY"])
def test_required_secrets_are_named_when_missing(missing):
    with pytest.raises(SettingsError, match=missing):
        Settings.from_env({k: v for k, v in BASE.items() if k != missing})


def test_secrets_never_print():
    settings = Settings.from_env({**BASE, "NOTIFY_WEBHOOK_URL": "https://hooks.example/abc?sig=xyz"})
    text = repr(settings) + str(settings)
    assert "s3cret" not in text and "sig=xyz" not in text and "Eby8" not in text and "k" * 32 not in text
    assert repr(Secret("x")) == "Secret('***')"


def test_settings_are_frozen():
    settings = Settings.from_env(BASE)
    with pytest.raises(Exception):
        settings.model_name = "other"


def test_retrain_triggers_and_drift_overrides():
    settings = Settings.from_env({**BASE, "RETRAIN_TRIGGERS": "drift, schedule", "DRIFT_KS_THRESHOLD": "0.2"})
    assert settings.monitoring.retrain_triggers == {"drift", "schedule"}
    assert settings.monitoring.drift_thresholds == {"ks_threshold": 0.2}
    assert Settings.from_env({**BASE, "RETRAIN_TRIGGERS": ""}).monitoring.retrain_triggers == frozenset()


AZURE = {"ML_BACKEND": "azure", "APPROVAL_SIGNING_KEY": "k" * 32, "AZURE_SUBSCRIPTION_ID": "sub",
         "AZURE_RESOURCE_GROUP": "rg", "AZUREML_WORKSPACE": "ws", "AzureWebJobsStorage__accountName": "retrainst"}


def test_the_azure_backend_reads_its_workspace_and_identity_based_storage():
    settings = Settings.from_env(AZURE)
    assert settings.azure.workspace == "ws" and settings.azure.compute == "cpu-cluster"
    assert settings.storage.connection.value == "https://retrainst.blob.core.windows.net"
    assert not settings.local.mlflow_webhook_secret, "no MLflow webhook in Azure: Event Grid delivers ModelRegistered"


@pytest.mark.parametrize("missing", ["AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP", "AZUREML_WORKSPACE"])
def test_the_azure_backend_names_a_missing_workspace_setting(missing):
    with pytest.raises(SettingsError, match=missing):
        Settings.from_env({k: v for k, v in AZURE.items() if k != missing})


def test_an_unresolved_key_vault_reference_is_named():
    with pytest.raises(SettingsError, match="APPROVAL_SIGNING_KEY: the Key Vault reference was not resolved"):
        Settings.from_env({**BASE, "APPROVAL_SIGNING_KEY": "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/x/)"})
