"""What the MLflow API's routes share: the workspace path, the host they answer on, Azure ML's errors."""
from __future__ import annotations

import re

from emulators.azure.http import HttpError, Request

WS = (r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.MachineLearningServices"
      r"/workspaces/(?P<ws>[^/]+)")


def mlflow_host(config) -> str:
    """Azure ML's regional API host (with the port): MLflow, history and artifact APIs."""
    return f"{config.location}.api.azureml.localhost:{config.https_port}"


def mlflow_host_pattern(config) -> str:
    return re.escape(f"{config.location}.api.azureml.localhost")


def check_workspace(request: Request, config) -> None:
    """404 (Azure ML's body) unless the path names the one emulated workspace."""
    params = request.params
    if (params.get("sub", "").lower(), params.get("rg", "").lower(), params.get("ws", "").lower()) != (
            config.subscription_id.lower(), config.resource_group.lower(), config.workspace.lower()):
        raise azure_ml_error(404, "NotFound", f"Workspace not found: /subscriptions/{params.get('sub')}/resourceGroups/"
                                              f"{params.get('rg')}/workspaces/{params.get('ws')}")


class AzureMLError(HttpError):
    """Azure ML's service error: code UserError (or SystemError), the reason in innerError.code."""

    def __init__(self, status: int, inner: str, message: str, code: str = "UserError"):
        super().__init__(status, code, message)
        self.inner = inner

    def response(self):
        answer = super().response()
        answer.body["error"].update({"severity": None, "details": [], "innerError": {"code": self.inner}})
        return answer


def azure_ml_error(status: int, inner: str, message: str) -> AzureMLError:
    return AzureMLError(status, inner, message)
