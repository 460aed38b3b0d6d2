"""Bad option values and output paths through the real CLI: one clear line naming the
option or the path, exit 2, never a traceback from DuckDB, pyarrow or openpyxl."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import CliResult, Project, cli_process, line


@pytest.fixture
def loaded(project: Project) -> Project:
    project.write_csv("d1.csv", [line("T1", 1), line("T2", 1, sold_at="not a date")])
    assert project.cli("run").code == 0
    return project


def usage_error(result: CliResult) -> str:
    """The message of a usage error, after checking it is one line and no traceback."""
    assert result.code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "Exception" not in result.stderr
    return result.stderr


@pytest.mark.parametrize(
    ("args", "least"),
    [
        (("quarantine", "list", "--limit", "-5"), "0"),
        (("marts", "show", "sales_daily", "--limit", "-1"), "0"),
        (("monitor", "list", "--limit", "-2"), "0"),
        (("monitor", "runs", "--limit", "0"), "1"),
        (("demo", "demo", "--days", "-1", "--no-serve"), "1"),
    ],
)
def test_counts_out_of_range_are_rejected_when_parsed(
    loaded: Project, args: tuple[str, ...], least: str
) -> None:
    message = usage_error(cli_process("--config", loaded.config, *args, cwd=loaded.root))
    option = next(a for a in args if a.startswith("--") and a != "--no-serve")
    assert f"'{option}'" in message and f"greater than or equal to {least}" in message


def test_limit_zero_still_means_all(loaded: Project) -> None:
    result = loaded.cli("quarantine", "list", "--limit", "0", "--json")
    assert result.code == 0 and len(result.json()) == 1


def test_export_to_a_folder_names_a_file_to_use(loaded: Project, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    result = cli_process(
        "--config", loaded.config, "export", "sales_daily", "--format", "csv", "--out", folder
    )
    message = usage_error(result)
    assert f"--out {folder} is a folder" in message
    assert f"--out {folder / 'sales_daily.csv'}" in message
    assert list(folder.iterdir()) == []


@pytest.fixture
def unwritable(tmp_path: Path) -> Path:
    """A folder that cannot exist: its parent is a regular file."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file\n")
    return blocker / "out"


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_export_to_an_unwritable_path_names_it(loaded: Project, unwritable: Path, fmt: str) -> None:
    out = unwritable / f"daily.{fmt}"
    result = cli_process(
        "--config", loaded.config, "export", "sales_daily", "--format", fmt, "--out", out
    )
    message = usage_error(result)
    assert f"cannot write {out}" in message and "folder that exists" in message


@pytest.mark.parametrize(
    "args",
    [
        ("export", "--lake", "{out}"),
        ("quarantine", "export", "--out", "{out}/rows.csv"),
        ("marts", "docs", "--out", "{out}/marts.md"),
    ],
)
def test_other_writers_name_an_unwritable_path(
    loaded: Project, unwritable: Path, args: tuple[str, ...]
) -> None:
    filled = [a.format(out=unwritable) for a in args]
    message = usage_error(cli_process("--config", loaded.config, *filled))
    assert f"cannot write {filled[-1]}" in message
