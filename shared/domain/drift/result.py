"""The outcome of a drift check: one verdict, the statistics and data-quality signals per feature."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

VERDICTS = ("drift", "no_drift", "insufficient_data", "data_quality")


@dataclass(frozen=True)
class DriftResult:
    """A drift check's verdict and why, with everything the report and the stored record show."""

    verdict: str                        # "drift" | "no_drift" | "insufficient_data" | "data_quality"
    rows: int
    drifted_features: tuple[str, ...]
    drifted_share: float
    features: dict                      # name → statistics, votes, reference/current histograms
    quality: dict                       # name → data-quality signals of that feature
    problems: tuple[str, ...]           # human-readable data-quality signals, naming the column
    reason: str = ""                    # one sentence: why this verdict
    policy: dict = field(default_factory=dict)
    window: dict = field(default_factory=dict)   # dataset-level facts: extra columns, missing features, chunks

    @property
    def drifted(self) -> bool:
        return self.verdict == "drift"

    def to_dict(self) -> dict:
        """Plain JSON-serialisable dict (no NaN or infinity anywhere)."""
        return _jsonable({
            "verdict": self.verdict,
            "reason": self.reason,
            "rows": self.rows,
            "drifted_features": list(self.drifted_features),
            "drifted_share": self.drifted_share,
            "features": self.features,
            "quality": self.quality,
            "problems": list(self.problems),
            "policy": self.policy,
            "window": self.window,
        })


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item"):  # numpy scalar
        return _jsonable(value.item())
    return str(value)
