"""The dataset schema: each column's name, role (identifier, feature or label), type and
physical range, and the limits a file must keep to be used for training.

This is the one declaration of the diabetes dataset in the app. training/ runs as an Azure
ML command job that uploads only that folder, so it keeps its own copy of the roles
(training/dataset_schema.py); tests/training/test_contract_copies.py fails when they differ.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["ColumnRule", "DataContract", "DIABETES_CONTRACT", "FEATURE", "IDENTIFIER", "LABEL"]

IDENTIFIER = "identifier"  # names a row; neither trained on nor sent to a model
FEATURE = "feature"
LABEL = "label"


@dataclass(frozen=True)
class ColumnRule:
    name: str
    kind: Literal["int", "float"]
    minimum: float | None = None
    maximum: float | None = None
    nullable: bool = True
    role: Literal["identifier", "feature", "label"] = FEATURE


@dataclass(frozen=True)
class DataContract:
    columns: tuple[ColumnRule, ...]
    min_rows: int = 100
    max_null_share: float = 0.05
    max_bytes: int = 2 * 1024**3
    max_problems: int = 20
    # A line (no line break found) longer than this stops validation: it bounds memory on
    # files that are not line-oriented CSV at all.
    max_line_bytes: int = 1024 * 1024

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def identifiers(self) -> tuple[str, ...]:
        return self._named(IDENTIFIER)

    @property
    def label(self) -> str | None:
        """The label column's name (None for a contract without one)."""
        labels = self._named(LABEL)
        return labels[0] if labels else None

    @property
    def not_features(self) -> tuple[str, ...]:
        """The columns a model is not given: identifiers and the label."""
        return tuple(c.name for c in self.columns if c.role != FEATURE)

    def _named(self, role: str) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.role == role)


# Ranges are plausible physical limits; the real files (dev 5,000 and prod 10,000 rows)
# lie well inside them: PatientID 1000038..1999997, Pregnancies 0..14, PlasmaGlucose
# 44..192, DiastolicBloodPressure 24..117, TricepsThickness 7..93, SerumInsulin 14..799,
# BMI 18.2..56.0, DiabetesPedigree 0.078..2.30, Age 21..77, Diabetic 0/1; no nulls.
DIABETES_CONTRACT = DataContract(
    columns=(
        ColumnRule("PatientID", "int", minimum=1, nullable=False, role=IDENTIFIER),
        ColumnRule("Pregnancies", "int", minimum=0, maximum=30),
        ColumnRule("PlasmaGlucose", "int", minimum=0, maximum=400),
        ColumnRule("DiastolicBloodPressure", "int", minimum=0, maximum=250),
        ColumnRule("TricepsThickness", "int", minimum=0, maximum=150),
        ColumnRule("SerumInsulin", "int", minimum=0, maximum=2000),
        ColumnRule("BMI", "float", minimum=5, maximum=100),
        ColumnRule("DiabetesPedigree", "float", minimum=0, maximum=5),
        ColumnRule("Age", "int", minimum=0, maximum=120),
        ColumnRule("Diabetic", "int", minimum=0, maximum=1, nullable=False, role=LABEL),
    )
)
