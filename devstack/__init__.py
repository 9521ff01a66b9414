"""The local stack: Azurite, an MLflow server and the local Functions host, as real processes."""
