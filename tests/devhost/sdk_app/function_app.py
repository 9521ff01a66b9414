"""A function app with an SDK-type blob trigger (azurefunctions-extensions-bindings-blob), used only
by the devhost tests. Each run appends a JSON line to the file named by SAMPLE_RECORD_FILE."""
import json
import os
import time

import azure.functions as func
import azurefunctions.extensions.bindings.blob as blob

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.blob_trigger(arg_name="client", path="%SAMPLE_CONTAINER%/sdk/{name}",
                  connection="AzureWebJobsStorage", source=func.BlobSource.EVENT_GRID)
def on_blob_client(client: blob.BlobClient) -> None:
    """Records what the client names and what it reads; content 'fail…' raises."""
    from azure.storage.blob import BlobClient

    content = client.download_blob().readall()
    with open(os.environ["SAMPLE_RECORD_FILE"], "a", encoding="utf-8") as f:
        f.write(json.dumps({"kind": "blob-client", "container": client.container_name, "name": client.blob_name,
                            "content": content.decode(), "is_client": type(client) is BlobClient,
                            "url": client.url, "at": time.time()}) + "\n")
    if content.startswith(b"fail"):
        raise RuntimeError("bad blob")


@app.blob_trigger(arg_name="stream", path="%SAMPLE_CONTAINER%/stream/{name}", connection="AzureWebJobsStorage")
def on_blob_stream(stream: func.InputStream) -> None:
    """An InputStream-typed trigger next to the SDK-typed one (never triggered by the tests' blobs)."""


@app.route(route="hello")
def hello(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("hello")
