"""Export settings: layering and validation messages."""

from __future__ import annotations

import pytest

from stockx_export.errors import ExportError
from stockx_export.export.settings import ExportSettings, resolve_settings


def test_defaults_follow_the_peak_guides():
    settings = resolve_settings()
    assert settings == ExportSettings()
    assert settings.url == "https://ingestion.peak.ai/api/v2/ingest/object/QP_STOCK_EXTRA_OOTB"
    assert (settings.page_rows, settings.page_bytes, settings.requests_per_second, settings.in_flight) == (500, 1_000_000, 50.0, 4)
    assert (settings.operation, settings.timestamp_format, settings.solution_name) == ("UPSERT", "iso", "QP_OOTB")


def test_layers_apply_in_order_key_by_key():
    settings = resolve_settings(
        project={"page-rows": 100, "prefix": "", "base_url": "https://ingestion.eu.peak.ai"},
        meta={"peak": {"page_rows": 200, "suffix": ""}, "owner": "ops"},
        env={"PEAK_BASE_URL": "http://127.0.0.1:8080/"},
        overrides={"page_rows": None, "in_flight": 2, "operation": "append"},
    )
    assert (settings.page_rows, settings.prefix, settings.suffix, settings.in_flight, settings.operation) == (200, "", "", 2, "APPEND")
    assert settings.url == "http://127.0.0.1:8080/api/v2/ingest/object/STOCK_EXTRA"
    assert resolve_settings(env={"PEAK_BASE_URL": "http://a"}, overrides={"base_url": "http://b"}).base_url == "http://b"


@pytest.mark.parametrize("kwargs,message", [
    ({"project": {"pag_rows": 1}}, "[tool.stockx.export] in pyproject.toml: unknown export setting 'pag_rows' (known: "),
    ({"meta": {"peak": {"page_rows": 0}}}, "the model's meta.peak: export setting 'page_rows' must be a whole number from 1 to 100,000, got 0"),
    ({"overrides": {"page_bytes": "lots"}}, "the command line: export setting 'page_bytes' must be a whole number from 1,000 to 100,000,000, got 'lots'"),
    ({"project": {"requests_per_second": -1}}, "[tool.stockx.export] in pyproject.toml: export setting 'requests_per_second' must be a number from 0.01 to 100,000, got -1"),
    ({"project": {"operation": "DELETE"}}, "[tool.stockx.export] in pyproject.toml: operation must be UPSERT or APPEND, got 'DELETE'"),
    ({"project": {"timestamp_format": "unix"}}, "[tool.stockx.export] in pyproject.toml: timestamp_format must be 'iso' or 'sql', got 'unix'"),
    ({"env": {"PEAK_BASE_URL": "ingestion.peak.ai"}}, "PEAK_BASE_URL: base_url must start with http:// or https://, got 'ingestion.peak.ai'"),
    ({"project": {"path": "/x/{tenant}"}}, "[tool.stockx.export] in pyproject.toml: path template '/x/{tenant}' may only use {prefix}, {object} and {suffix}"),
    ({"meta": {"peak": "STOCK_EXTRA"}}, "the model's meta.peak must be a mapping of export settings, got 'STOCK_EXTRA'"),
    ({"project": {"prefix": 1}}, "[tool.stockx.export] in pyproject.toml: export setting 'prefix' must be a string, got 1"),
])
def test_bad_settings_are_named_with_their_source(kwargs, message):
    with pytest.raises(ExportError) as caught:
        resolve_settings(**kwargs)
    assert str(caught.value).startswith(message)
    if not message.endswith("(known: "):
        assert str(caught.value) == message


def test_as_dict_holds_no_token_and_the_resolved_url():
    data = resolve_settings().as_dict()
    assert data["url"] == "https://ingestion.peak.ai/api/v2/ingest/object/QP_STOCK_EXTRA_OOTB"
    assert not any("token" in key for key in data)


@pytest.mark.parametrize("layer, key, value, allowed", [
    ("overrides", "timeout", float("inf"), "a number above 0 and at most 3,600"),
    ("overrides", "timeout", float("nan"), "a number above 0 and at most 3,600"),
    ("overrides", "timeout", 0.0, "a number above 0 and at most 3,600"),
    ("project", "timeout", "inf", "a number above 0 and at most 3,600"),
    ("project", "retry_seconds", float("-inf"), "a number above 0 and at most 86,400"),
    ("meta", "backoff_cap", 1e300, "a number above 0 and at most 3,600"),
    ("meta", "requests_per_second", float("inf"), "a number from 0.01 to 100,000"),
    ("project", "page_rows", 10**9, "a whole number from 1 to 100,000"),
    ("overrides", "page_bytes", 999, "a whole number from 1,000 to 100,000,000"),
    ("overrides", "in_flight", 10_000, "a whole number from 1 to 64"),
    ("project", "max_attempts", -3, "a whole number from 1 to 100"),
    ("project", "response_bytes", 0, "a whole number from 1,000 to 100,000,000"),
])
def test_numbers_are_finite_and_bounded_whatever_the_layer(layer, key, value, allowed):
    source = {"overrides": "the command line", "project": "[tool.stockx.export] in pyproject.toml",
              "meta": "the model's meta.peak"}[layer]
    kwargs = {"meta": {"peak": {key: value}}} if layer == "meta" else {layer: {key: value}}
    with pytest.raises(ExportError) as caught:
        resolve_settings(**kwargs)
    assert str(caught.value) == f"{source}: export setting '{key}' must be {allowed}, got {value!r}"


@pytest.mark.parametrize("key, value", [
    ("page_rows", 100_000), ("page_rows", "7"), ("timeout", 3600), ("timeout", 0.05), ("requests_per_second", 0.01),
    ("in_flight", 64), ("response_bytes", 1_000), ("retry_seconds", "86400"),
])
def test_numbers_at_the_edges_of_their_range_are_taken(key, value):
    assert getattr(resolve_settings(project={key: value}), key) == type(getattr(ExportSettings(), key))(value)


def test_memory_limit_must_be_a_size_not_sql():
    assert resolve_settings(project={"memory_limit": "2GB"}).memory_limit == "2GB"
    assert resolve_settings(project={"memory_limit": "50%"}).memory_limit == "50%"
    with pytest.raises(ExportError) as caught:
        resolve_settings(project={"memory_limit": "1GB'; SET threads = 1; --"})
    assert str(caught.value) == (
        "[tool.stockx.export] in pyproject.toml: memory_limit must be a size such as 256MB or 2GB, "
        "got '1GB'; SET threads = 1; --'"
    )


@pytest.mark.parametrize("attributes, message", [
    ({"season": {"type": "text"}}, "attribute 'season': type must be one of string, integer, float, boolean, "
                                    "datetime, date, got 'text'"),
    ({"season": {"type": "string", "size": 3}}, "attribute 'season': unknown key size (known: default, type, validations)"),
    ({"season": {"type": "string", "validations": {"maxLength": "20"}}},
     "attribute 'season': validation maxLength: '20' is not one of nonNull (true/false), minLength, maxLength"),
    ({"1st": "string"}, "attribute '1st': a column name is letters, digits and '_' (not starting with a digit)"),
    (["season"], "attributes must be a mapping of column names"),
])
def test_custom_attributes_are_checked_and_named(attributes, message):
    with pytest.raises(ExportError) as caught:
        resolve_settings(meta={"peak": {"object": "PRODUCT", "attributes": attributes}})
    assert str(caught.value).startswith(f"the model's meta.peak: {message}")


def test_a_custom_attribute_reaches_the_resource_after_the_standard_columns():
    from stockx_export.export.run import resource_for

    settings = resolve_settings(meta={"peak": {"object": "PRODUCT", "attributes": {
        "season": {"type": "datetime", "default": "x"}, "launched": "boolean"}}})
    assert [(c.name, c.peak_type) for c in resource_for(settings).columns][-2:] == [
        ("launched", "boolean"), ("season", "timestamp")]
    assert settings.attributes[1].request("QP_OOTB") == {"solutionName": "QP_OOTB", "columnName": "SEASON",
                                                          "dataType": "datetime", "defaultValue": "x"}
    clash = resolve_settings(meta={"peak": {"object": "PRODUCT", "attributes": {"Name": "string"}}})
    with pytest.raises(ExportError, match="attribute Name of object PRODUCT is one of Peak's standard columns"):
        resource_for(clash)
