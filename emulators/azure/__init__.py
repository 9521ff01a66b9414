"""A loopback emulator of the Azure services the app talks to when ML_BACKEND=azure.

One process (`python -m emulators.azure`): HTTPS on loopback with a CA generated at start, a
managed-identity token endpoint (App Service protocol), ARM for Azure ML, Azure ML's MLflow API
(backed by a real MLflow server), command jobs run as processes, Event Grid delivery, and online
endpoints served by MLflow scoring servers. Test infrastructure: the app never imports it.
What it covers and what it does not: emulators/azure/README.md.
"""
