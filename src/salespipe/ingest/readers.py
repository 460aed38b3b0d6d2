"""Engine-native readers: expose a landed file to DuckDB as a view of text columns.

Every reader yields the same shape, a view with `_row` (1-based data row) and the
file's columns as VARCHAR, so that every bad value is caught by validation rather
than by the reader. Structurally broken lines are kept as rejects with their line.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import duckdb

from salespipe.config.model import Format, ReadOptions
from salespipe.errors import ReadError, SalespipeError
from salespipe.warehouse.sql import first_row

NATIVE_ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8",
    "latin-1": "latin-1",
    "latin1": "latin-1",
    "iso-8859-1": "latin-1",
    "utf-16": "utf-16",
}


@dataclass
class RejectedLine:
    line: int
    text: str
    message: str


@dataclass
class RawFile:
    """A file exposed as the view `view`, plus what the reader could not parse."""

    view: str
    columns: list[str]
    scan_view: str | None = None  # the same rows without `_row`, scanned in file order
    header_lines: int = 0
    rejects: list[RejectedLine] = field(default_factory=list)
    cleanup: list[Path] = field(default_factory=list)
    line_map: list[int] | None = None  # physical line of each row, when not header + row
    path: str | None = None  # the file read (CSV: for messages about the whole file)
    encoding: str = "utf-8"

    def line_of(self, row: int) -> int:
        """Physical line of data row `row` (1-based), skipping rejected lines."""
        if self.line_map is not None:
            return self.line_map[row - 1] if 0 < row <= len(self.line_map) else 0
        line = row + self.header_lines
        for rejected in sorted(r.line for r in self.rejects):
            if rejected <= line:
                line += 1
        return line

    def lines_of(self, rows: list[int]) -> list[int]:
        """`line_of` of many rows, in one pass over the rejected lines."""
        if self.line_map is not None or not self.rejects:
            return [self.line_of(r) for r in rows]
        rejected = sorted(r.line for r in self.rejects)
        skipped = 0
        lines: dict[int, int] = {}
        for row in sorted(set(rows)):
            line = row + self.header_lines + skipped
            while skipped < len(rejected) and rejected[skipped] <= line:
                skipped += 1
                line += 1
            lines[row] = line
        return [lines[r] for r in rows]

    def close(self) -> None:
        for path in self.cleanup:
            path.unlink(missing_ok=True)


def detect_format(path: str, declared: Format | None) -> Format:
    if declared:
        return declared
    name = path.lower().removesuffix(".gz")
    for suffix, fmt in (
        (".csv", "csv"),
        (".tsv", "tsv"),
        (".tab", "tsv"),
        (".txt", "csv"),
        (".parquet", "parquet"),
        (".pq", "parquet"),
        (".jsonl", "jsonl"),
        (".ndjson", "jsonl"),
        (".json", "jsonl"),
        (".xlsx", "xlsx"),
    ):
        if name.endswith(suffix):
            return fmt  # type: ignore[return-value]
    raise ReadError(
        "cannot tell the file format from its name",
        file=path,
        hint="set `format:` (csv, tsv, parquet, jsonl, xlsx) on the source",
    )


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _unique_names(names: list[str]) -> list[str]:
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(names, start=1):
        name = raw.strip() or f"column{i}"
        key = name.lower()  # DuckDB column names are case-insensitive
        if key in seen:
            seen[key] += 1
            name = f"{name}_{seen[key]}"
        else:
            seen[key] = 1
        out.append(name)
    return out


def _open_text(path: Path, encoding: str, compression: str) -> IO[str]:
    gz = _gzipped(path, compression)
    raw: IO[bytes] = gzip.open(path, "rb") if gz else path.open("rb")  # type: ignore[assignment]  # noqa: SIM115
    enc = "utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding
    return io.TextIOWrapper(raw, encoding=enc, errors="replace", newline="")


def _gzipped(path: Path, compression: str) -> bool:
    """Whether a file is read through gzip: declared, or `auto` and named .gz."""
    return compression == "gzip" or (compression == "auto" and path.name.lower().endswith(".gz"))


def _holds_nul(path: Path, compression: str) -> bool:
    """Whether the first 8 KB hold a NUL byte, which no text file in an 8-bit encoding has."""
    gz = _gzipped(path, compression)
    try:
        with gzip.open(path, "rb") if gz else path.open("rb") as fh:
            return b"\x00" in fh.read(8192)
    except (OSError, EOFError):
        return False  # the read that follows reports it


def _transcode(path: Path, encoding: str, compression: str) -> Path:
    """Copy a file in an encoding DuckDB cannot read into a temporary UTF-8 file."""
    fd, name = tempfile.mkstemp(prefix="salespipe-", suffix=".csv")
    try:
        with (
            _open_text(path, encoding, compression) as src,
            os.fdopen(fd, "w", encoding="utf-8", newline="") as dst,
        ):
            while chunk := src.read(1 << 20):
                dst.write(chunk)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def read_csv(
    con: duckdb.DuckDBPyConnection, path: Path, fmt: Format, opts: ReadOptions, view: str
) -> RawFile:
    delimiter = opts.delimiter or ("\t" if fmt == "tsv" else ",")
    quote = opts.quote if opts.quote is not None else '"'
    escape = opts.escape if opts.escape is not None else quote
    encoding = opts.encoding.lower()
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ReadError(
            f"unknown encoding '{opts.encoding}'",
            file=str(path),
            hint="use utf-8, latin-1, utf-16 or another Python codec name",
        ) from None
    cleanup: list[Path] = []
    source = path
    compression = opts.compression
    if encoding not in NATIVE_ENCODINGS:
        try:
            source = _transcode(path, encoding, compression)
        except (OSError, EOFError, gzip.BadGzipFile, UnicodeError) as exc:
            raise ReadError(
                f"cannot read the file as {opts.encoding}: {exc}",
                file=str(path),
                hint="check the source's `options.encoding` (and `compression`) against the file",
            ) from None
        cleanup.append(source)
        encoding, compression = "utf-8", "none"
    try:
        with _open_text(source, encoding, compression) as fh:
            for _ in range(opts.skip):
                fh.readline()
            first = fh.readline()
    except UnicodeError as exc:
        raise ReadError(
            f"cannot read the file as {opts.encoding}: {exc}",
            file=str(path),
            hint="check the source's `options.encoding` against the file",
        ) from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ReadError(
            f"cannot read file: {exc}",
            file=str(path),
            hint="check the file and the source's `options.compression`",
        ) from None
    if not encoding.startswith(("utf-16", "utf-32")) and _holds_nul(source, compression):
        raise ReadError(
            "the file is not text (its first bytes hold NUL bytes)",
            file=str(path),
            hint="is it a spreadsheet, an archive or UTF-16 without a BOM? set the source's "
            "`format:` (xlsx, parquet) or `options.encoding`, or export it as CSV",
        )
    if not first.strip():
        raise ReadError(
            "the file is empty", file=str(path), hint="nothing to load; remove the file"
        )
    header = next(csv.reader([first.rstrip("\r\n")], delimiter=delimiter, quotechar=quote or '"'))
    names = (
        _unique_names(header) if opts.header else [f"column{i}" for i in range(1, len(header) + 1)]
    )
    if opts.header and len(names) == 1 and len(delimiter) == 1 and delimiter not in first:
        other = next((d for d in (";", "\t", "|", ",") if d in first and d != delimiter), None)
        if other:
            raise ReadError(
                f"the header has one column but contains {other!r}",
                file=str(path),
                line=opts.skip + 1,
                hint=f"set options.delimiter: {other!r} on the source",
            )
    columns_sql = "{" + ", ".join(f"{_sql_str(n)}: 'VARCHAR'" for n in names) + "}"
    nulls = ["", *opts.null_values]
    enc_sql = NATIVE_ENCODINGS.get(encoding, "utf-8")
    comp_sql = {"auto": "auto", "none": "none", "gzip": "gzip"}[compression]
    rejects_table = f"{view}_rejects"
    scan_table = f"{view}_scans"
    sql = (
        f"CREATE OR REPLACE TEMP VIEW {view}_scan AS SELECT * FROM read_csv("
        f"{_sql_str(str(source))}, columns={columns_sql}, auto_detect=false, header={str(opts.header).lower()}, "
        f"skip={opts.skip}, delim={_sql_str(delimiter)}, quote={_sql_str(quote)}, escape={_sql_str(escape)}, "
        f"encoding={_sql_str(enc_sql)}, compression={_sql_str(comp_sql)}, "
        f"nullstr=[{', '.join(_sql_str(v) for v in nulls)}], strict_mode=true, null_padding=false, "
        f"ignore_errors=true, store_rejects=true, rejects_table={_sql_str(rejects_table)}, "
        f"rejects_scan={_sql_str(scan_table)}, max_line_size=10000000)"
    )
    # DuckDB appends to an existing rejects table: start this file's from empty, or the
    # lines a previous file rejected would be counted (and quarantined) as this file's.
    for table in (rejects_table, scan_table):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute(sql)
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT row_number() OVER () AS _row, * FROM {view}_scan"
    )
    return RawFile(
        view=view,
        columns=names,
        header_lines=opts.skip + (1 if opts.header else 0),
        cleanup=cleanup,
        scan_view=f"{view}_scan",
        path=str(path),
        encoding=opts.encoding,
    )


def collect_rejects(con: duckdb.DuckDBPyConnection, raw: RawFile) -> None:
    """Fetch the lines the CSV reader rejected; call after the view was scanned."""
    try:
        rows = con.execute(
            f"SELECT line, any_value(csv_line), string_agg(DISTINCT error_message, '; ') "
            f"FROM {raw.view}_rejects GROUP BY line ORDER BY line"
        ).fetchall()
        encoding = con.execute(
            f"SELECT min(line), count(DISTINCT line) FROM {raw.view}_rejects "
            "WHERE error_type = 'INVALID ENCODING'"
        ).fetchall()[0]
    except duckdb.CatalogException:
        return
    if encoding[1]:
        # The encoding is the file's, not a row's: quarantined, such lines could never be
        # replayed (their text is already garbled), and the file would count as loaded.
        raise ReadError(
            f"the file is not valid {raw.encoding} ({encoding[1]} line(s), the first on line "
            f"{encoding[0]}); nothing was loaded",
            file=raw.path,
            line=int(encoding[0]),
            hint="set the source's `options.encoding` to the file's (latin-1 and cp1252 are "
            "common for spreadsheet exports), or re-export the file as UTF-8",
        )
    raw.rejects = [
        RejectedLine(int(line), str(text or "").strip("\r\n"), str(msg)) for line, text, msg in rows
    ]


def read_parquet(con: duckdb.DuckDBPyConnection, path: Path, view: str) -> RawFile:
    try:
        desc = con.execute(f"DESCRIBE SELECT * FROM read_parquet({_sql_str(str(path))})").fetchall()
    except duckdb.Error as exc:
        raise ReadError(
            f"not a readable Parquet file: {str(exc).splitlines()[0]}",
            file=str(path),
            hint="check the file, or set the source's `format:`",
        ) from None
    names = [str(r[0]) for r in desc]
    select = ", ".join(f'CAST("{n}" AS VARCHAR) AS "{n}"' for n in names)
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT file_row_number + 1 AS _row, {select} "
        f"FROM read_parquet({_sql_str(str(path))}, file_row_number=true)"
    )
    return RawFile(view=view, columns=names)


MAX_JSON_DEPTH = 5


def _json_path(parts: list[str]) -> str:
    return "$" + "".join("." + json.dumps(p) for p in parts)


def _json_keys(
    con: duckdb.DuckDBPyConnection, table: str, col: str, base: list[str]
) -> list[list[str]]:
    """Paths of the keys under `base` in every object of `table.col`, nested objects
    flattened (`store.id`), in order of first appearance; one scan per nesting level."""
    path = _sql_str(_json_path(base))
    keys = [
        str(r[0])
        for r in con.execute(
            f"SELECT k FROM (SELECT unnest(json_keys({col}, {path})) AS k, _line FROM {table} "
            f"WHERE json_type({col}, {path}) = 'OBJECT') GROUP BY k ORDER BY min(_line), k"
        ).fetchall()
    ]
    if not keys:
        return []
    nested = [False] * len(keys)
    if len(base) < MAX_JSON_DEPTH:
        # One parse per row for all keys, and only rows with a nested brace at all.
        paths = "[" + ", ".join(_sql_str(_json_path([*base, k])) for k in keys) + "]"
        found = con.execute(
            f"SELECT DISTINCT i FROM (SELECT unnest(t) AS ty, unnest(range(1, {len(keys) + 1})) AS i "
            f"FROM (SELECT json_type({col}, {paths}) AS t FROM {table} "
            f"WHERE contains(substr({col}, 2), '{{'))) WHERE ty = 'OBJECT'"
        ).fetchall()
        for (i,) in found:
            nested[int(i) - 1] = True
    out: list[list[str]] = []
    for key, is_object in zip(keys, nested, strict=True):
        out.append([*base, key])
        if is_object:
            out.extend(_json_keys(con, table, col, [*base, key]))
    return out


def read_jsonl(con: duckdb.DuckDBPyConnection, path: Path, opts: ReadOptions, view: str) -> RawFile:
    """Each line is read as text and parsed in SQL, so a broken line is a reject with its number.

    Keys of nested objects become columns of their own (`store.id`, beside `store` as
    JSON text). With `explode`, each element of that list becomes a row.
    """
    comp = (
        "gzip"
        if opts.compression == "gzip" or (opts.compression == "auto" and path.name.endswith(".gz"))
        else "none"
    )
    lines_view = f"{view}_lines"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {lines_view} AS SELECT row_number() OVER () AS _line, j FROM read_csv("
        f"{_sql_str(str(path))}, columns={{'j': 'VARCHAR'}}, header=false, auto_detect=false, delim='\\x01', "
        f"quote='', escape='', compression='{comp}', max_line_size=100000000, strict_mode=false)"
    )
    valid = "j IS NOT NULL AND trim(j) <> '' AND json_valid(j) AND json_type(j) = 'OBJECT'"
    bad = [
        RejectedLine(int(n), str(t), "not a JSON object")
        for n, t in con.execute(
            f"SELECT _line, j FROM {lines_view} WHERE j IS NOT NULL AND trim(j) <> '' AND "
            f"(NOT json_valid(j) OR json_type(j) <> 'OBJECT') ORDER BY _line"
        ).fetchall()
    ]
    records, order = lines_view, "_line"
    explode = opts.explode
    if explode:
        at = _sql_str(_json_path([explode]))
        has_list = f"json_type(j, {at}) = 'ARRAY' AND json_array_length(j, {at}) > 0"
        bad += [
            RejectedLine(int(n), str(t), f"no list of items at '{explode}' (missing or empty)")
            for n, t in con.execute(
                f"SELECT _line, j FROM {lines_view} WHERE {valid} AND NOT coalesce({has_list}, false)"
            ).fetchall()
        ]
        bad.sort(key=lambda r: r.line)
        records, order = f"{view}_items", "_line, _pos"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {records} AS SELECT _line, "
            f"unnest(CAST(json_extract(j, {at}) AS JSON[])) AS _item, "
            f"generate_subscripts(CAST(json_extract(j, {at}) AS JSON[]), 1) AS _pos, j "
            f"FROM {lines_view} WHERE {valid} AND {has_list}"
        )
    else:
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {view}_objects AS SELECT * FROM {lines_view} WHERE {valid}"
        )
        records = f"{view}_objects"
    paths = [p for p in _json_keys(con, records, "j", []) if not explode or p[0] != explode]
    columns = [(".".join(p), f"json_extract_string(j, {_sql_str(_json_path(p))})") for p in paths]
    if explode:
        for p in _json_keys(con, records, "_item", []):
            columns.append(
                (".".join([explode, *p]), f"json_extract_string(_item, {_sql_str(_json_path(p))})")
            )
        scalar = first_row(
            con.execute(f"SELECT 1 FROM {records} WHERE json_type(_item) <> 'OBJECT' LIMIT 1")
        )
        if scalar:
            columns.append(
                (
                    explode,
                    "CASE WHEN json_type(_item) <> 'OBJECT' THEN json_extract_string(_item, '$') END",
                )
            )
        columns.append((f"{explode}.#", "CAST(_pos AS VARCHAR)"))
    if not columns:
        raise ReadError(
            "no JSON objects found", file=str(path), hint="each line must be one JSON object"
        )
    names = _unique_names([name for name, _ in columns])
    select = ", ".join(f'{sql} AS "{n}"' for (_, sql), n in zip(columns, names, strict=True))
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT row_number() OVER (ORDER BY {order}) AS _row, "
        f"_line, {select} FROM {records}"
    )
    raw = RawFile(view=view, columns=names)
    raw.rejects = bad
    # Blank lines are neither rows nor rejects; map rows to physical lines exactly.
    blank = first_row(
        con.execute(f"SELECT 1 FROM {lines_view} WHERE j IS NULL OR trim(j) = '' LIMIT 1")
    )
    if bad or blank or explode:
        raw.line_map = [
            int(r[0]) for r in con.execute(f"SELECT _line FROM {view} ORDER BY _row").fetchall()
        ]
    return raw


def _cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        text = value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
        return str(text)
    return str(value)


def read_xlsx(con: duckdb.DuckDBPyConnection, path: Path, opts: ReadOptions, view: str) -> RawFile:
    import openpyxl
    import pyarrow as pa

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many unrelated types for a bad file
        raise ReadError(f"not a readable Excel file: {exc}", file=str(path)) from None
    try:
        if opts.sheet is not None and opts.sheet not in book.sheetnames:
            raise ReadError(
                f"no sheet named '{opts.sheet}'",
                file=str(path),
                hint="sheets in the file: " + ", ".join(book.sheetnames),
            )
        sheet = book[opts.sheet] if opts.sheet else book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        for _ in range(opts.skip):
            next(rows, None)
        first = next(rows, None)
        if first is None:
            raise ReadError("the sheet is empty", file=str(path))
        width = len(first)
        names = (
            _unique_names([str(c) if c is not None else "" for c in first])
            if opts.header
            else [f"column{i}" for i in range(1, width + 1)]
        )
        data: list[list[str | None]] = [[] for _ in names]
        lines: list[int] = []
        start = opts.skip + (2 if opts.header else 1)
        body = rows if opts.header else iter([first, *rows])
        for line, row in enumerate(body, start=start):
            cells = [_cell_text(v) for v in row[:width]]
            if all(c is None or c == "" for c in cells):
                continue  # Excel keeps formatted empty rows; they are not data
            lines.append(line)
            for i in range(width):
                data[i].append(cells[i] if i < len(cells) else None)
    finally:
        book.close()
    table = pa.table(
        {n: pa.array(col, type=pa.string()) for n, col in zip(names, data, strict=True)}
    )
    con.register(f"{view}_arrow", table)
    cols = ", ".join(f'"{n}"' for n in names)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {view}_t AS SELECT row_number() OVER () AS _row, {cols} FROM {view}_arrow"
    )
    con.unregister(f"{view}_arrow")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM {view}_t")
    return RawFile(view=view, columns=names, line_map=lines)


GLOB_CHARACTERS = frozenset("*?[]{}")


def _literal_path(path: Path) -> Path:
    """A path DuckDB reads as written: its readers expand *, ?, [..] and {..} in a name
    (`s*.csv` would read every `s….csv`), so such a file is read through a symlink with a
    plain name (the caller removes it)."""
    if not GLOB_CHARACTERS.intersection(str(path)):
        return path
    suffix = "".join(x for x in path.suffixes if x[1:].isalnum())
    fd, name = tempfile.mkstemp(prefix="salespipe-", suffix=suffix)
    os.close(fd)
    link = Path(name)
    link.unlink()
    link.symlink_to(path.resolve())
    return link


def open_raw(
    con: duckdb.DuckDBPyConnection, path: Path, fmt: Format, opts: ReadOptions, view: str = "_raw"
) -> RawFile:
    """Open a landed file as the raw view `view` (every column as text, `_row` numbered)."""
    literal = _literal_path(path)
    try:
        raw = _open_raw(con, literal, fmt, opts, view)
    except BaseException as exc:
        if literal != path:
            literal.unlink(missing_ok=True)
        if isinstance(exc, SalespipeError) and exc.file == str(literal):
            exc.file = str(path)
        raise
    if literal != path:
        raw.cleanup.append(literal)  # the views read through it until the load ends
    return raw


def _open_raw(
    con: duckdb.DuckDBPyConnection, path: Path, fmt: Format, opts: ReadOptions, view: str
) -> RawFile:
    if fmt in ("csv", "tsv"):
        return read_csv(con, path, fmt, opts, view)
    if fmt == "parquet":
        return read_parquet(con, path, view)
    if opts.explode and fmt != "jsonl":
        raise ReadError(
            f"options.explode works on JSON lines only, and this file is read as {fmt}",
            file=str(path),
            hint="set format: jsonl on the source, or remove options.explode",
        )
    if fmt == "jsonl":
        return read_jsonl(con, path, opts, view)
    return read_xlsx(con, path, opts, view)
