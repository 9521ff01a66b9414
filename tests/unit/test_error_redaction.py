"""SDK exception text quotes signed URLs (a SAS ?sv=...&sig=..., a function key ?code=...): the domain
error made of it keeps the step and the service's words, never a URL's query or a sig=/code=/key= value."""
from __future__ import annotations

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError, ServiceRequestError

from shared.adapters.azure_ml.errors import service_message, translate
from shared.domain.errors import InvalidInput, NotFound, PlatformError, redact

SAS = "sv=2023-11-03&se=2026-12-03T00%3A00%3A00Z&sr=b&sp=r&sig=Zm9vYmFyc2VjcmV0JTJGJTJCPQ%3D%3D"
URL = f"https://acct.blob.core.windows.net/azureml/ExperimentRun/dcid.x/model/model.pkl?{SAS}"
SECRETS = ("Zm9vYmFyc2VjcmV0", "sv=2023", "hunter2", "s3cr3tKey", "abcFUNCKEY")


def clean(text: str) -> bool:
    return not any(secret in text for secret in SECRETS)


def test_urls_lose_their_query_and_secret_values_anywhere_are_redacted():
    text = redact(f"GET {URL} failed; retry at https://x.azurewebsites.net/api/h?code=abcFUNCKEY&x=1. "
                  "Conn: AccountName=a;AccountKey=s3cr3tKey;EndpointSuffix=core.windows.net sig=hunter2")
    assert clean(text), text
    assert "https://acct.blob.core.windows.net/azureml/ExperimentRun/dcid.x/model/model.pkl?[redacted]" in text
    assert "https://x.azurewebsites.net/api/h?[redacted]" in text and "AccountKey=[redacted];" in text
    assert "EndpointSuffix=core.windows.net" in text and text.endswith("sig=[redacted]")
    assert redact("model diabetes v3 has no files in Azure ML") == "model diabetes v3 has no files in Azure ML"


def test_the_azure_ml_translation_redacts_every_kind_of_error():
    http = HttpResponseError(message=f"(AuthorizationFailure) Operation failed for {URL}\n sig=hunter2")
    http.status_code = 403
    assert clean(service_message(http)) and "AuthorizationFailure" in service_message(http)
    for error, kind in ((http, PlatformError), (ResourceNotFoundError(message=f"Blob missing: {URL}"), NotFound),
                        (ServiceRequestError(message=f"Connection reset while reading {URL}"), PlatformError),
                        (type("ValidationException", (Exception,), {})(f"bad path {URL}"), InvalidInput),
                        (OSError(f"download of {URL} failed"), PlatformError)):
        translated = translate("download model", error)
        assert isinstance(translated, kind) and translated.message.startswith("download model"), translated.message
        assert clean(translated.message) and "blob.core.windows.net" in translated.message, translated.message


def test_a_long_message_is_redacted_before_it_is_cut():
    error = HttpResponseError(message="x" * 480 + f" {URL}")
    assert clean(service_message(error)) and len(service_message(error)) <= 600


def test_a_platform_error_built_from_raw_exception_text_is_redacted():
    """mlflow_models, the scoring clients and the local adapters raise PlatformError with an SDK's text."""
    error = PlatformError(f"could not load model m v3 (MlflowException: {str(OSError(f'GET {URL} 403'))[:200]})")
    assert clean(error.message) and str(error) == error.message and "could not load model m v3" in error.message
