"""The blob trigger's value, chosen by the parameter's type as the Python worker chooses it.

A parameter typed with an SDK type of ``azurefunctions-extensions-bindings-blob`` (``BlobClient``,
``ContainerClient``, ``StorageStreamDownloader``) is a deferred binding: the real host sends only
model binding data (``{"Connection", "ContainerName", "BlobName"}``, source ``AzureStorageBlobs``)
and the worker hands it to the extension's converter, which builds the client from the connection
setting (azure_functions_worker/bindings/meta.py ``deferred_bindings_decode``). This host does the
same, through the same converter, so the function gets the very object Azure gives it and the
blob's bytes are never read here. Any other parameter (``func.InputStream``) gets the lazy stream
of ``blob_stream``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .functions import FunctionInfo
from .settings import connection_setting_name

BLOB_TRIGGER = "blobTrigger"
MODEL_BINDING_DATA = "model_binding_data"


@dataclass(frozen=True)
class ModelBindingData:
    """What the host sends for a deferred binding (the gRPC ``ModelBindingData`` message's fields)."""

    content: str
    version: str = "1.0"
    source: str = "AzureStorageBlobs"
    content_type: str = "application/json"


def sdk_converter(fn: FunctionInfo) -> Any | None:
    """The extension's converter when ``fn``'s trigger parameter is an SDK type; None otherwise."""
    try:
        from azurefunctions.extensions.base import get_binding_registry
    except ImportError:  # the app does not use SDK types
        return None
    registry = get_binding_registry()
    if not registry.check_supported_type(fn.trigger_annotation):
        return None
    converter = registry.get(BLOB_TRIGGER)
    if converter is None or not converter.check_input_type_annotation(fn.trigger_annotation):
        raise TypeError(f"'Functions.{fn.name}': no installed extension binds a blob trigger to "
                        f"{getattr(fn.trigger_annotation, '__name__', fn.trigger_annotation)}")
    return converter


def model_binding_data(fn: FunctionInfo, container: str, name: str) -> ModelBindingData:
    """The binding data the host sends for one blob of ``fn``: the connection *setting's* name, never its value."""
    connection = connection_setting_name(fn.trigger.connection)
    content = {"Connection": connection, "ContainerName": container, "BlobName": name}
    return ModelBindingData(content=json.dumps(content))


def trigger_value(fn: FunctionInfo, container: str, name: str, props: Any = None, blob: Any = None) -> Any:
    """The value ``fn`` receives for ``container/name``: an SDK client, or a lazy ``func.InputStream``.

    For a stream, ``blob`` is the ``BlobClient`` to read with and ``props`` its ``BlobProperties``
    (each made or fetched when missing); an SDK client is built from the connection setting alone.
    """
    converter = sdk_converter(fn)
    if converter is not None:
        from azurefunctions.extensions.base import Datum

        datum = Datum(model_binding_data(fn, container, name), MODEL_BINDING_DATA)
        return converter.decode(datum, trigger_metadata={}, pytype=fn.trigger_annotation)
    from .blob_stream import make_stream

    if blob is None:
        from .blob_storage import service_client
        from .settings import storage_connection_string

        blob = service_client(storage_connection_string(fn.trigger.connection)).get_blob_client(container, name)
    return make_stream(blob, container, props if props is not None else blob.get_blob_properties())
