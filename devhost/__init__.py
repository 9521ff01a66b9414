"""A small local Azure Functions host for Python v2-model apps (``function_app.app``).

Azure Functions Core Tools cannot run here; ``python -m devhost --app-dir DIR`` or
``devhost.host.FunctionsHost(app_dir, port, env).start()`` serve the app instead:
HTTP, Event Grid, timer, (polled) blob and queue triggers, plus the admin API.
"""
