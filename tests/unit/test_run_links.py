"""The evidence document's link to the candidate's run: the MLflow UI page under MLFLOW_TRACKING_URI
(local) or the Azure ML studio page of the job (azure), derived from what the platform already knows:
no new setting, only http(s), never a password, key or token."""
from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from shared.domain.errors import NotFound, PlatformError
from shared.ports import page_base, page_url
from tests.builders import MODEL
from tests.fakes import FakeDeliveryPlatform
from tests.unit.test_approval_binding import Binding


def local_platform(tracking_uri: str, experiments: dict[str, str]):
    from shared.adapters.local_ml.platform import LocalMLPlatform

    platform = LocalMLPlatform(jobs_dir="/tmp", storage_connection="", tracking_uri=tracking_uri,
                               events_url="http://127.0.0.1:9/none", events_key="k",
                               training_python=Path(sys.executable))

    def run(run_id):
        if run_id not in experiments:
            raise NotFound("MLflow runs/get: not found")
        return {"info": {"run_id": run_id, "experiment_id": experiments[run_id]}}

    platform.mlflow = SimpleNamespace(run=run)
    return platform


@pytest.mark.parametrize("tracking_uri, base", [
    ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
    ("https://mlflow.example/tracking/", "https://mlflow.example/tracking"),
    ("https://ops:s3cret@mlflow.example:8443/?token=abc#frag", "https://mlflow.example:8443"),
    ("http://[::1]:5000", "http://[::1]:5000"),
])
def test_the_local_run_url_is_the_mlflow_uis_run_page_without_credentials(tracking_uri, base):
    platform = local_platform(tracking_uri, {"0a1b2c": "7"})
    url = platform.run_url("0a1b2c")
    assert url == f"{base}/#/experiments/7/runs/0a1b2c"
    assert "s3cret" not in url and "ops" not in url and "token" not in url


@pytest.mark.parametrize("tracking_uri", ["file:///tmp/mlruns", "sqlite:///mlflow.db", "azureml://x", "http://",
                                          "http://host:99999", "javascript:alert(1)"])
def test_no_local_run_url_without_an_http_tracking_server(tracking_uri):
    assert local_platform(tracking_uri, {"0a1b2c": "7"}).run_url("0a1b2c") is None


def test_the_local_run_url_quotes_what_it_is_given_and_an_unknown_run_is_not_found():
    platform = local_platform("http://127.0.0.1:5000", {"a/b?c": "1 2"})
    assert platform.run_url("a/b?c") == "http://127.0.0.1:5000/#/experiments/1%202/runs/a%2Fb%3Fc"
    with pytest.raises(NotFound):
        platform.run_url("missing")


def test_the_azure_run_url_is_the_studio_page_of_the_job_in_its_workspace():
    from shared.adapters.azure_ml.config import AzureMLConfig
    from shared.adapters.azure_ml.platform import AzureMLPlatform

    platform = AzureMLPlatform(SimpleNamespace(), AzureMLConfig(
        subscription_id="00000000-1111-2222-3333-444444444444", resource_group="rg-retrain", workspace="mlw-retrain"))

    assert platform.run_url("train-20261122-ab12") == (
        "https://ml.azure.com/runs/train-20261122-ab12?wsid=/subscriptions/00000000-1111-2222-3333-444444444444"
        "/resourcegroups/rg-retrain/workspaces/mlw-retrain")
    assert platform.run_url("x&y=<z>") == (
        "https://ml.azure.com/runs/x%26y%3D%3Cz%3E?wsid=/subscriptions/00000000-1111-2222-3333-444444444444"
        "/resourcegroups/rg-retrain/workspaces/mlw-retrain")
    assert platform.run_url("") is None


@pytest.mark.parametrize("url, expected", [
    ("https://a.example/x", "https://a.example/x"), ("http://127.0.0.1:5000/#/runs/1", "http://127.0.0.1:5000/#/runs/1"),
    ("javascript:alert(1)", None), ("https://u:p@a.example/", None), ("ftp://a.example/", None),
    ("https://a.example/'><script>", None), ("https://a.example/x y", None), (None, None), (42, None),
    ("https:///nohost", None),
])
def test_page_url_admits_only_plain_http_addresses(url, expected):
    assert page_url(url) == expected


def test_page_base_keeps_scheme_host_port_and_path_only():
    assert page_base(" https://u:p@h.example:444/a/b/?q=1#f ") == "https://h.example:444/a/b"
    assert page_base("mailto:x@y") is None


class LinkPlatform(FakeDeliveryPlatform):
    def __init__(self, answer):
        super().__init__()
        self.answer, self.asked = answer, []

    def run_url(self, run_id):
        self.asked.append(run_id)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def document_with(answer) -> dict:
    platform = LinkPlatform(answer)
    world = Binding(platform=platform)
    candidate = world.register("1")
    document = world.evidence.for_approval(candidate.approval_id)
    assert platform.asked == [document["candidate"]["run_id"]] and platform.asked[0]
    return document


def test_the_evidence_links_the_candidates_run():
    document = document_with("http://127.0.0.1:5000/#/experiments/3/runs/r-1")
    assert document["links"]["mlflow_run"] == "http://127.0.0.1:5000/#/experiments/3/runs/r-1"
    assert document["notes"] == []


@pytest.mark.parametrize("answer", [None, "javascript:alert(1)", "https://ops:s3cret@mlflow.example/#/runs/r-1",
                                    "https://a.example/'onmouseover='x"])
def test_a_run_link_that_is_not_a_plain_http_address_is_left_out(answer):
    document = document_with(answer)
    assert document["links"]["mlflow_run"] is None
    assert "s3cret" not in str(document)


def test_a_run_link_the_platform_cannot_give_is_noted_and_the_document_issued_all_the_same():
    document = document_with(PlatformError("MLflow runs/get: server unreachable (URLError)"))
    assert document["links"]["mlflow_run"] is None
    assert document["notes"] == ["MLflow run link: not gathered (PlatformError)"]
    assert document["verdict"]["passed"] and document["model_name"] == MODEL
