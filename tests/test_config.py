"""Config validation: every mistake names the key, the line and how to fix it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from salespipe.config import parse_config
from salespipe.config.loader import load_config
from salespipe.errors import ConfigError

from .conftest import cli_process


def parse(text: str) -> object:
    return parse_config(textwrap.dedent(text), file="salespipe.yaml")


def test_defaults() -> None:
    config = parse("sources: []\n")
    assert config.warehouse == "duckdb:///warehouse.duckdb"  # type: ignore[attr-defined]


def test_unknown_key_names_key_and_line() -> None:
    with pytest.raises(ConfigError) as err:
        parse("""\
            warehouse: duckdb:///w.duckdb
            sources:
              - name: pos
                landing: landing
                patern: "*.csv"
            """)
    assert "unknown key 'sources[0].patern'" in err.value.message
    assert err.value.line == 5
    assert "line 5" in str(err.value)


def test_wrong_type_names_key_and_line() -> None:
    with pytest.raises(ConfigError) as err:
        parse("""\
            sources:
              - name: pos
                landing: landing
                options: {header: maybe}
            """)
    assert "sources[0].options.header" in err.value.message
    assert err.value.line == 4


def test_unknown_canonical_field() -> None:
    with pytest.raises(ConfigError) as err:
        parse("""\
            sources:
              - name: pos
                landing: landing
                columns: {sold_on: date}
            """)
    assert "'sold_on' is not a canonical field" in err.value.message


def test_missing_required_key() -> None:
    with pytest.raises(ConfigError) as err:
        parse("sources:\n  - name: pos\n")
    assert "missing required key 'sources[0].landing'" in err.value.message
    assert err.value.line == 2


def test_unset_env_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SP_TEST_SECRET", raising=False)
    with pytest.raises(ConfigError) as err:
        parse("""\
            alerts:
              slack: {webhook_url: env:SP_TEST_SECRET}
            """)
    assert "SP_TEST_SECRET is not set" in err.value.message
    assert err.value.line == 2
    assert err.value.key == "alerts.slack.webhook_url"
    monkeypatch.setenv("SP_TEST_SECRET", "https://hooks.example/x")
    config = parse("alerts:\n  slack: {webhook_url: env:SP_TEST_SECRET}\n")
    assert config.alerts.slack.webhook_url == "https://hooks.example/x"  # type: ignore[attr-defined]


def test_bad_timezone() -> None:
    with pytest.raises(ConfigError) as err:
        parse("timezone: Mars/Olympus\n")
    assert "unknown time zone 'Mars/Olympus'" in err.value.message


def test_duplicate_source_names() -> None:
    with pytest.raises(ConfigError, match="two sources are named 'pos'"):
        parse("sources:\n  - {name: pos, landing: a}\n  - {name: pos, landing: b}\n")


def test_invalid_yaml_names_line() -> None:
    with pytest.raises(ConfigError) as err:
        parse("sources:\n  - name: pos\n   landing: x\n")
    assert err.value.line == 3


def test_missing_file_names_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "nope.yaml")
    assert "salespipe init" in (err.value.hint or "")


def test_cli_bad_config_exit_2_no_traceback(tmp_path: Path) -> None:
    cfg = tmp_path / "salespipe.yaml"
    cfg.write_text("warehouse: duckdb:///w.duckdb\nsourcez: []\n")
    result = cli_process("--config", cfg, "run")
    assert result.code == 2
    assert "unknown key 'sourcez'" in result.stderr
    assert "line 2" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_from_env_variable(tmp_path: Path) -> None:
    cfg = tmp_path / "custom.yaml"
    cfg.write_text("sources: []\n")
    result = cli_process("run", env={"SALESPIPE_CONFIG": str(cfg)}, cwd=tmp_path)
    assert result.code == 2
    assert "no sources configured" in result.stderr
