"""The fake ML platform's per-row predictions: deterministic rows and probabilities whose AUC
follows the figure a test set for each version (`platform.scores[version]["auc"]`, default 0.9).

Every version sees the same rows with the same noise, so two versions with the same figure give
the same probabilities (a paired comparison of identical models differs by exactly 0), and a
test may bend one version's probabilities on some rows (`platform.probability_overrides`).
"""
from __future__ import annotations

import csv
import io
import math
import random
from statistics import NormalDist

from shared.domain.errors import PlatformError
from shared.domain.evaluation import ScoredRows

HELDOUT_ROWS = 400
LABEL, IDENTIFIER = "Diabetic", "PatientID"
FEATURES = ("Pregnancies", "PlasmaGlucose", "BMI", "Age")


def predict_proba(platform, model_name: str, versions: list[str], rows) -> ScoredRows:
    for version in versions:
        if getattr(platform, "registry_only", False) and (model_name, str(version)) not in platform.model_versions:
            raise PlatformError(f"could not load model {model_name} v{version} (not registered)")
    records, parts = [], []
    if rows.heldout_of:
        records += _heldout(rows.heldout_of)
        parts.append((f"held-out split of v{rows.heldout_of}", HELDOUT_ROWS))
    for name, chunks in rows.files:
        found = _csv_rows(b"".join(chunks), rows.max_rows_per_file)
        if found is not None:
            records += found
            parts.append((name, len(found)))
    names = sorted({k for features, _ in records for k in features})
    overrides = getattr(platform, "probability_overrides", {})
    probabilities = {}
    for version in versions:
        target = platform.scores.get(version, {}).get("auc", 0.9)
        bend = overrides.get(version, lambda features, p: p)
        probabilities[version] = tuple(bend(features, _probability(features, label, target)) for features, label in records)
    return ScoredRows(
        labels=tuple(label for _, label in records),
        features={n: tuple(features.get(n, math.nan) for features, _ in records) for n in names},
        probabilities=probabilities, parts=tuple(parts),
    )


def _heldout(version: str) -> list[tuple[dict, int]]:
    rng = random.Random(f"heldout-{version}")
    out = []
    for _ in range(HELDOUT_ROWS):
        features = {"Pregnancies": float(0 if rng.random() < 0.35 else rng.randint(1, 10)),
                    "PlasmaGlucose": float(rng.randint(60, 190)), "BMI": round(rng.uniform(18, 50), 2),
                    "Age": float(rng.randint(21, 80))}
        out.append((features, int(rng.random() < 0.33)))
    return out


def _csv_rows(data: bytes, limit: int | None) -> list[tuple[dict, int | None]] | None:
    reader = csv.DictReader(io.StringIO(data.decode("utf-8")))
    if not reader.fieldnames:
        return None
    out = []
    for row in reader:
        if limit is not None and len(out) == limit:
            break
        label = row.get(LABEL)
        features = {k: _number(v) for k, v in row.items() if k not in (LABEL, IDENTIFIER)}
        out.append((features, int(label) if label not in (None, "") else None))
    return out


def _probability(features: dict, label: int | None, auc: float) -> float:
    """Binormal scores: the positive rows' mean is d above the negatives', AUC = Φ(d / √2)."""
    rng = random.Random(repr(sorted(features.items())))
    noise = rng.gauss(0, 1)
    if label is None:
        label = int(rng.random() < 0.35)
    d = math.sqrt(2) * NormalDist().inv_cdf(min(max(auc, 0.5), 0.999))
    return 1 / (1 + math.exp(-1.7 * (d * label + noise - d / 2)))


def _number(value: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
