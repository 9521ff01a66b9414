"""A tiny function app used only by the devhost tests: one function per trigger kind.

Each non-HTTP function appends a JSON line to the file named by SAMPLE_RECORD_FILE.
"""
import json
import logging
import os
import time

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


def record(kind: str, **data) -> None:
    with open(os.environ["SAMPLE_RECORD_FILE"], "a", encoding="utf-8") as f:
        f.write(json.dumps({"kind": kind, **data}) + "\n")


@app.route(route="hello/{name:alpha}", methods=["GET"])
def hello(req: func.HttpRequest) -> func.HttpResponse:
    logging.info("saying hello")
    payload = {"name": req.route_params["name"], "q": req.params.get("q"), "url": req.url}
    return func.HttpResponse(json.dumps(payload), mimetype="application/json", headers={"X-Sample": "1"})


@app.route(route="whoami", methods=["GET"])
def whoami(req: func.HttpRequest) -> func.HttpResponse:
    """The principal headers the function sees (App Service authentication's emulation)."""
    seen = {k.lower(): v for k, v in req.headers.items() if k.lower().startswith("x-ms-client-principal")}
    return func.HttpResponse(json.dumps(seen), mimetype="application/json")


@app.route(route="items/{id:int}/{*rest}", methods=["GET", "POST"], auth_level=func.AuthLevel.FUNCTION)
def items(req: func.HttpRequest) -> func.HttpResponse:
    payload = {"id": req.route_params.get("id"), "rest": req.route_params.get("rest"),
               "method": req.method, "body": req.get_body().decode()}
    return func.HttpResponse(json.dumps(payload), status_code=201, mimetype="application/json")


@app.route(route="opt/{x?}")
def optional(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(req.route_params.get("x", "none"))


@app.route(route="admin-only", auth_level=func.AuthLevel.ADMIN)
def admin_only(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("admin ok")


@app.route(route="boom")
def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("secret internal detail")


@app.route(route="async")
async def async_route(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("async ok")


@app.event_grid_trigger(arg_name="event")
def on_event(event: func.EventGridEvent) -> None:
    data = event.get_json()
    record("eventgrid", id=event.id, type=event.event_type, subject=event.subject, topic=event.topic,
           time=event.event_time.isoformat() if event.event_time else None, data=data)
    if isinstance(data, dict) and data.get("fail"):
        raise ValueError("asked to fail")


@app.timer_trigger(schedule="%SAMPLE_TIMER_SCHEDULE%", arg_name="timer", run_on_startup=False)
def tick(timer: func.TimerRequest) -> None:
    record("timer", past_due=timer.past_due, at=time.time())


@app.blob_trigger(arg_name="blob", path="%SAMPLE_CONTAINER%/incoming/{name}",
                  connection="AzureWebJobsStorage", source=func.BlobSource.EVENT_GRID)
def on_blob(blob: func.InputStream) -> None:
    first = blob.read(4)
    content = first + blob.read()
    record("blob", name=blob.name, length=blob.length, content=content.decode(),
           is_stream=isinstance(blob, func.InputStream), etag=(blob.blob_properties or {}).get("ETag"))
    if content.startswith(b"fail"):
        raise RuntimeError("bad blob")


@app.queue_trigger(arg_name="msg", queue_name="%SAMPLE_QUEUE%", connection="AzureWebJobsStorage")
def on_message(msg: func.QueueMessage) -> None:
    """Records each delivery; a body 'fail…' raises, 'sleep:<s>…' runs that long first."""
    body = msg.get_body().decode("utf-8", "replace")
    record("queue", id=msg.id, body=body, dequeue_count=msg.dequeue_count, pop_receipt=bool(msg.pop_receipt),
           inserted=msg.insertion_time.isoformat() if msg.insertion_time else None,
           expires=msg.expiration_time.isoformat() if msg.expiration_time else None,
           next_visible=msg.time_next_visible.isoformat() if msg.time_next_visible else None,
           is_queue_message=isinstance(msg, func.QueueMessage), at=time.time())
    if body.startswith("sleep:"):
        time.sleep(float(body[len("sleep:"):].split()[0]))
        record("queue-done", id=msg.id, body=body)
    if body.startswith("fail"):
        raise RuntimeError("asked to fail")
