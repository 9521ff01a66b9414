"""training/ keeps literal copies of the app's dataset roles and model names (an Azure ML job
uploads only that folder): each copy must equal the app's declaration."""
from __future__ import annotations

from types import ModuleType

import shared.domain.model_contract as app_model_contract
import training.model_contract as training_model_contract
from shared.domain.contract import DIABETES_CONTRACT
from training import dataset_schema


def constants(module: ModuleType) -> dict[str, object]:
    return {name: value for name, value in vars(module).items() if name.isupper()}


def test_training_uses_the_label_and_identifiers_of_the_data_contract():
    assert dataset_schema.LABEL == DIABETES_CONTRACT.label
    assert dataset_schema.ID_COLUMNS == DIABETES_CONTRACT.identifiers


def test_training_copy_of_the_model_contract_is_the_same():
    app = constants(app_model_contract)
    assert app  # the comparison below is over something
    assert constants(training_model_contract) == app

