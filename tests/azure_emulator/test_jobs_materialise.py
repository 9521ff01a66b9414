"""Downloads that would leave the job's folder: blob names with '..' segments (Azurite refuses to
store them, a listing from elsewhere may still carry them) and input names used as folder names
are refused with a clear message, nothing written outside."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from emulators.azure.jobs.materialise import InputError, Materialiser, inside


class Listing:
    """A container client whose listing names the given blobs (each holding b"x")."""

    def __init__(self, names):
        self.names = names

    def list_blobs(self, name_starts_with=None):
        return [SimpleNamespace(name=n) for n in self.names if n.startswith(name_starts_with or "")]

    def download_blob(self, name):
        return SimpleNamespace(readall=lambda: b"x")

    def get_blob_client(self, name):
        return SimpleNamespace(exists=lambda: True, download_blob=lambda: SimpleNamespace(readall=lambda: b"x"))


def materialiser(tmp_path: Path, names) -> Materialiser:
    service = SimpleNamespace(get_container_client=lambda container: Listing(names))
    context = SimpleNamespace(config=SimpleNamespace(), blob_service=lambda: service)
    return Materialiser(context, tmp_path / "jobs" / "j")


@pytest.mark.parametrize("blob", ["p/../../../escaped.txt", "p/sub/../../../../escaped.txt"])
def test_a_folder_blob_whose_name_leaves_the_target_is_refused(tmp_path, blob):
    target = tmp_path / "jobs" / "j" / "inputs" / "folder"
    target.mkdir(parents=True)

    with pytest.raises(InputError, match="leaves"):
        materialiser(tmp_path, ["p/ok.csv", blob])._download("data", "p", target, folder=True)

    assert not any(p.name == "escaped.txt" for p in tmp_path.rglob("*"))


def test_a_file_blob_named_dot_dot_is_refused(tmp_path):
    target = tmp_path / "t"
    target.mkdir()
    with pytest.raises(InputError, match="leaves"):
        materialiser(tmp_path, [])._download("data", "a/..", target, folder=False)


@pytest.mark.parametrize("name", ["../../x", "/etc", "a/../..", ".", ""])
def test_inside_refuses_what_is_not_below_the_base(tmp_path, name):
    with pytest.raises(InputError):
        inside(tmp_path / "inputs", name, what="input")
    assert inside(tmp_path / "inputs", "batch_000", what="input") == (tmp_path / "inputs" / "batch_000").resolve()
