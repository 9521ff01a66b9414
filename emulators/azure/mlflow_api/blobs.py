"""A run's artifacts in the workspace blob store (Azurite): SAS URLs the clients upload to and
download from, listings, and reading them back (for the backing server's copy of a model)."""
from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

from .uris import run_blob

SAS_LIFETIME = timedelta(hours=1)


class RunArtifactBlobs:
    """The runs' artifact blobs in `config.workspace_container`."""

    def __init__(self, config, blob_service):
        self.config, self._service = config, blob_service
        self._account_key = _account_key(config.storage_connection)
        self._container_ready = False
        self._lock = threading.Lock()

    @property
    def account_url(self) -> str:
        """The account's production-style URL, as the cloud's storage suffix makes it."""
        return f"https://{self.config.storage_account}.blob.{self.config.blob_suffix}"

    def sas_url(self, run_id: str, path: str, write: bool) -> str:
        """A blob SAS URL (read, or create+write) for one artifact of the run."""
        from azure.storage.blob import BlobSasPermissions, generate_blob_sas

        self._ensure_container()
        blob = run_blob(run_id, path)
        permission = BlobSasPermissions(read=True, create=True, write=True) if write else BlobSasPermissions(read=True)
        token = generate_blob_sas(self.config.storage_account, self.config.workspace_container, blob,
                                  account_key=self._account_key, permission=permission,
                                  expiry=datetime.now(timezone.utc) + SAS_LIFETIME,
                                  start=datetime.now(timezone.utc) - timedelta(minutes=5))
        return f"{self.account_url}/{self.config.workspace_container}/{quote(blob)}?{token}"

    def paths(self, run_id: str, prefix: str = "") -> list[str]:
        """The run's artifact paths (relative to its artifact root) under `prefix`, sorted."""
        root = run_blob(run_id)
        self._ensure_container()
        container = self._service().get_container_client(self.config.workspace_container)
        return sorted(blob.name[len(root):] for blob in container.list_blobs(name_starts_with=root + prefix.lstrip("/")))

    def exists(self, run_id: str, path: str) -> bool:
        return self._blob(run_id, path).exists()

    def read(self, run_id: str, path: str) -> bytes:
        return self._blob(run_id, path).download_blob().readall()

    def _blob(self, run_id: str, path: str):
        self._ensure_container()
        return self._service().get_blob_client(self.config.workspace_container, run_blob(run_id, path))

    def _ensure_container(self) -> None:
        with self._lock:
            if self._container_ready:
                return
            container = self._service().get_container_client(self.config.workspace_container)
            if not container.exists():
                try:
                    container.create_container()
                except Exception as error:  # noqa: BLE001 - created meanwhile by another part
                    if "ContainerAlreadyExists" not in str(error):
                        raise
            self._container_ready = True


def _account_key(connection_string: str) -> str:
    match = re.search(r"AccountKey=([^;]+)", connection_string or "")
    return match.group(1) if match else ""
