"""The ports: what the core needs from storage, the ML platform and the outside world, one module per concern.

Adapters in `shared.adapters` implement them, `shared.bootstrap` picks them from settings, unit tests fake them.
Import them from here (`from shared.ports import MLPlatform`); the modules are an internal grouping.
"""
from shared.ports.endpoints import (  # noqa: F401
    DeploymentInfo, EndpointInfo, ScoringResult, OnlineEndpoints,
)
from shared.ports.messaging import (  # noqa: F401
    Notification, Notifier, StepQueue, AuditLog,
)
from shared.ports.ml_platform import (  # noqa: F401
    TrainingJobRequest, ModelVersionInfo, RowsSource, MLPlatform, artifact_digest, page_base, page_url,
)
from shared.ports.monitoring import (  # noqa: F401
    WindowReader, CaptureSegment, CapturedInputs,
)
from shared.ports.storage import (  # noqa: F401
    DocumentExists, DocumentChanged, Versioned, KeyPage, DocumentStore, FileInfo, FileNotFound, FileStore,
)
