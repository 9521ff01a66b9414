"""The columns training treats specially: the label, and the identifiers it drops.

A literal copy of the roles in shared/domain/contract/schema.py (DIABETES_CONTRACT): this
folder is all an Azure ML job uploads, so it cannot import the app's `shared` package.
tests/training/test_contract_copies.py fails when the two differ.
"""
LABEL = "Diabetic"
ID_COLUMNS = ("PatientID",)
