"""The training data: every CSV under --data, checked to be trainable, split for evaluation."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

if __package__:  # imported as training.input_data (tests)
    from .dataset_schema import ID_COLUMNS, LABEL
else:  # run as a script from training/ (Azure ML `code: .`)
    from dataset_schema import ID_COLUMNS, LABEL  # type: ignore[no-redef]

MIN_ROWS = 20


class InputError(Exception):
    """Bad input: reported on one line, exit code 2."""


@dataclass
class Dataset:
    frame: pd.DataFrame
    files: list[Path]
    root: Path


def find_csv_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path] if path.suffix.lower() == ".csv" else []
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".csv")
    return []


def load_data(data: str | Path) -> Dataset:
    path = Path(data)
    if not path.exists():
        raise InputError(f"no CSV found: {path} does not exist")
    files = find_csv_files(path)
    if not files:
        raise InputError(f"no CSV found in {path}")
    frames = []
    for file in files:
        try:
            frame = pd.read_csv(file)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
            raise InputError(f"cannot read CSV {file}: {str(error).splitlines()[0] if str(error) else type(error).__name__}")
        if frames and set(frame.columns) != set(frames[0].columns):
            raise InputError(f"CSV columns differ: {file} does not match {files[0]}")
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    frame = frame.drop(columns=[c for c in ID_COLUMNS if c in frame.columns])
    return Dataset(frame, files, path if path.is_dir() else path.parent)


def validate(frame: pd.DataFrame) -> None:
    if LABEL not in frame.columns:
        raise InputError(f"missing label column {LABEL!r}")
    if len(frame) < MIN_ROWS:
        raise InputError(f"fewer than {MIN_ROWS} rows: got {len(frame)}")
    labels = frame[LABEL].dropna()
    if len(labels) < len(frame):
        raise InputError(f"label column {LABEL!r} has {len(frame) - len(labels)} empty values")
    counts = labels.value_counts()
    if len(counts) < 2:
        raise InputError(f"only one class in {LABEL!r}: {counts.index[0]!r}")
    if len(counts) > 2:
        raise InputError(f"label {LABEL!r} must be binary, got classes {sorted(counts.index.tolist())}")
    if counts.min() < 2:
        raise InputError(f"too few rows of class {counts.idxmin()!r} in {LABEL!r} to split: {counts.min()}")
    features = frame.drop(columns=[LABEL])
    if features.shape[1] == 0:
        raise InputError("no feature columns")
    non_numeric = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    if non_numeric:
        raise InputError(f"non-numeric feature columns: {', '.join(map(str, non_numeric))}")


def split(frame: pd.DataFrame, test_size: float, seed: int):
    """Stratified train/test split; returns X_train, X_test, y_train, y_test."""
    X = frame.drop(columns=[LABEL])
    y = frame[LABEL].astype(int)
    try:
        return train_test_split(X, y, test_size=test_size, random_state=seed, stratify=y)
    except ValueError as error:
        raise InputError(f"cannot split {len(frame)} rows with test size {test_size}: {error}")
