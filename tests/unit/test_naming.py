"""Azure ML deployment and endpoint name rules."""
from __future__ import annotations

import pytest

from shared.domain.errors import InvalidInput
from shared.domain.naming import (
    MAX_DEPLOYMENTS,
    deployment_name_for,
    validate_deployment_name,
    validate_endpoint_name,
)


@pytest.mark.parametrize("name", ["abc", "blue", "green-2", "diabetes-classif-v7", "A1b2", "a" * 32, "x-y-z"])
def test_valid_names_are_returned_unchanged(name):
    assert validate_deployment_name(name) == name
    assert validate_endpoint_name(name) == name


@pytest.mark.parametrize(
    "name, problem",
    [
        ("ab", "3-32 characters"),
        ("a" * 33, "3-32 characters"),
        ("", "3-32 characters"),
        ("1abc", "start with a letter"),
        ("-abc", "start with a letter"),
        ("ébc", "start with a letter"),
        ("ab--c", "consecutive dashes"),
        ("abc-", "end with a dash"),
        ("ab_c", "letters, digits and dashes"),
        ("ab c", "letters, digits and dashes"),
        ("ab.c", "letters, digits and dashes"),
        ("abcé", "letters, digits and dashes"),
        (None, "must be a string"),
        (7, "must be a string"),
    ],
)
def test_invalid_names_are_refused_naming_the_rule(name, problem):
    with pytest.raises(InvalidInput) as caught:
        validate_deployment_name(name)
    assert problem in caught.value.message
    assert "deployment name" in caught.value.message


def test_endpoint_names_say_what_they_are():
    with pytest.raises(InvalidInput, match="endpoint name 'x_y' may contain only"):
        validate_endpoint_name("x_y")


@pytest.mark.parametrize(
    "model, version, expected",
    [
        ("diabetes-classifier", "7", "diabetes-classif-v7"),
        ("diabetes-classifier", 12, "diabetes-classif-v12"),
        ("Diabetes_Classifier", "3", "diabetes-classif-v3"),
        ("my model!!", "1", "my-model-v1"),
        ("2fast", "1", "fast-v1"),
        ("a", "1", "a-v1"),
        ("abcdefghijklmno-pq", "1", "abcdefghijklmno-v1"),  # no trailing dash after the cut
        ("m", "1234567890123456789012345678", "m-v1234567890123456789012345678"),
    ],
)
def test_deployment_name_for_a_model_version(model, version, expected):
    name = deployment_name_for(model, version)
    assert name == expected
    assert validate_deployment_name(name) == name
    assert len(name) <= 32


def test_deployment_names_of_different_versions_differ():
    names = {deployment_name_for("diabetes-classifier", v) for v in range(1, 200)}
    assert len(names) == 199


@pytest.mark.parametrize("model, version", [("123", "1"), ("---", "1"), ("model", "1.0"), ("model", ""),
                                            ("model", "x" * 31), (None, "1")])
def test_deployment_name_for_refuses_what_cannot_be_named(model, version):
    with pytest.raises(InvalidInput):
        deployment_name_for(model, version)


def test_at_most_twenty_deployments():
    assert MAX_DEPLOYMENTS == 20
