"""Blueprints in process: a func.HttpRequest in, status and body out, on services built by
the production composition root over in-memory fakes."""
from __future__ import annotations

import json

import azure.functions as func
import pytest

import shared.bootstrap as bootstrap
from tests.builders import FakeWorld


@pytest.fixture
def world(monkeypatch) -> FakeWorld:
    world = FakeWorld()
    monkeypatch.setattr(bootstrap, "_services", world.services)
    return world


def request(method: str, route: str, body: object = b"", params: dict | None = None,
            route_params: dict | None = None, headers: dict | None = None) -> func.HttpRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return func.HttpRequest(method, f"http://localhost/api/{route}", headers=headers or {}, params=params or {},
                            route_params=route_params or {}, body=raw)


def registered_functions() -> dict:
    """The functions of function_app.app by name (the app builds its binding list once: reset first)."""
    import function_app

    function_app.app.functions_bindings = None
    return {f.get_function_name(): f for f in function_app.app.get_functions()}


FUNCTIONS = registered_functions()


def call(name: str, req: func.HttpRequest) -> tuple[int, object]:
    """Invoke a registered function's user code as the worker does; (status, parsed body)."""
    response = FUNCTIONS[name].get_user_function()(req)
    text = response.get_body().decode()
    is_json = (response.mimetype or "").startswith("application/json")
    return response.status_code, (json.loads(text) if is_json else text)
