"""The data contract: the dataset schema, and whether a CSV file keeps to it.

`schema` declares the columns (roles, types, ranges), `csv_engine.validate_csv` checks a file
given as byte chunks, and `report` holds what it found. Reading files is the callers' job
(`shared.adapters.local_files` for local paths).
"""
from shared.domain.contract.csv_engine import CHUNK_SIZE, validate_csv
from shared.domain.contract.report import Problem, ValidationReport
from shared.domain.contract.schema import DIABETES_CONTRACT, ColumnRule, DataContract

__all__ = [
    "CHUNK_SIZE",
    "ColumnRule",
    "DataContract",
    "DIABETES_CONTRACT",
    "Problem",
    "ValidationReport",
    "validate_csv",
]
