"""The data blob trigger in process: an SDK-type parameter (a real BlobClient that reaches nothing),
declared so that the worker asks the host for binding data instead of the blob's bytes."""
from __future__ import annotations

import json
import typing
from pathlib import Path
from types import SimpleNamespace

import azurefunctions.extensions.bindings.blob as blob
from azure.storage.blob import BlobClient
from azurefunctions.extensions.base import get_binding_registry

from shared.domain.batches import ACCEPTED
from tests.blueprints.conftest import FUNCTIONS

CSV = (Path(__file__).resolve().parents[2] / "data" / "diabetes-dev.csv").read_bytes()
# No one listens on port 9: a request the function made through this client would fail.
NOWHERE = ("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Zm9v;"
           "BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;")


def trigger(container: str, name: str) -> None:
    """Run on_data_blob as the worker does, with the client the extension would build."""
    client = BlobClient.from_connection_string(NOWHERE, container, name)
    FUNCTIONS["on_data_blob"].get_user_function()(client=client)


def test_the_function_decides_on_the_file_the_client_names_without_reading_through_it(world):
    name = "landing/2026/ünïcode name.csv"
    world.files.upload("data", name, CSV)

    trigger("data", name)

    [batch] = world.ingestion.list_batches(None, 10, None).items
    assert (batch.container, batch.name, batch.status) == ("data", name, ACCEPTED)


def test_kept_copies_and_vanished_files_are_skipped_without_an_error(world, caplog):
    trigger("data", "_accepted/" + "a" * 64)
    trigger("data", "gone.csv")
    assert world.ingestion.list_batches(None, 10, None).items == []
    assert "no longer exists" in caplog.text


def test_the_trigger_is_a_deferred_binding_so_the_host_sends_no_bytes():
    function = FUNCTIONS["on_data_blob"]
    trigger_binding = function.get_trigger()
    assert trigger_binding.get_binding_name() == "blobTrigger"
    assert (trigger_binding.source, trigger_binding.connection) == ("EventGrid", "AzureWebJobsStorage")
    # The worker resolves the annotation like this (typing.get_type_hints) and asks the extension's
    # registry for the raw binding it sends to the host.
    pytype = typing.get_type_hints(function.get_user_function())[trigger_binding.name]
    assert pytype is blob.BlobClient
    registry = get_binding_registry()
    assert registry.check_supported_type(pytype)
    raw, _ = registry.get_raw_bindings(function, {trigger_binding.name: SimpleNamespace(
        binding_name="blobTrigger", pytype=pytype)})
    [trigger_raw] = [json.loads(r) for r in raw if json.loads(r)["type"] == "blobTrigger"]
    assert trigger_raw["properties"] == {"SupportsDeferredBinding": True}
