import pytest

from devhost.routes import RouteTemplate
from devhost.settings import resolve


@pytest.mark.parametrize("template,path,expected", [
    ("items/{id:int}", "/items/42", {"id": "42"}),
    ("items/{id:int}", "/items/x", None),
    ("items/{id:int}", "/ITEMS/42/", {"id": "42"}),
    ("hello/{name:alpha}", "/hello/ab1", None),
    ("opt/{x?}", "/opt", {}),
    ("opt/{x?}", "/opt/v", {"x": "v"}),
    ("files/{*path}", "/files/a/b%20c.txt", {"path": "a/b c.txt"}),
    ("files/{*path}", "/files", {}),
    ("f/{name}.{ext}", "/f/report.csv", {"name": "report", "ext": "csv"}),
    ("a/{id:guid}", "/a/0f8fad5b-d9cb-469f-a165-70867728950e", {"id": "0f8fad5b-d9cb-469f-a165-70867728950e"}),
    ("a/b", "/a/b/c", None),
    ("", "/", {}),
])
def test_match(template, path, expected):
    assert RouteTemplate(template).match(path) == expected


def test_literal_routes_sort_before_parameters_and_catch_all_last():
    templates = [RouteTemplate(t) for t in ["{*all}", "items/{id}", "items/new"]]
    assert [t.template for t in sorted(templates, key=RouteTemplate.sort_key)] == ["items/new", "items/{id}", "{*all}"]


def test_binding_expressions():
    assert resolve("%A%/{name}", {"A": "data"}) == "data/{name}"
    with pytest.raises(KeyError):
        resolve("%MISSING%", {})
