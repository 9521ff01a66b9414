"""Azure ML adapter: MLPlatform (command jobs, registry) and OnlineEndpoints (managed online
endpoints) over azure-ai-ml. azure.ai.ml is imported lazily, inside the calls that need it."""
from shared.adapters.azure_ml.client import build_azure_ml, build_ml_client
from shared.adapters.azure_ml.config import AzureMLConfig

__all__ = ["AzureMLConfig", "build_azure_ml", "build_ml_client"]
