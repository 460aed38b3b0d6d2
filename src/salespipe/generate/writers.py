"""Output formats of the generator and their file writers, fed one batch at a time.

Each format is declared once in FORMATS (extension, row limit, how to open a
file). A writer splits its work in two: `prepare` renders a batch on the
calling thread and returns the I/O, which BackgroundFiles runs on a worker
thread, so a day reaches the disk while the next one is generated.
"""

from __future__ import annotations

import re
import zipfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import BinaryIO, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from salespipe.generate.catalog import Catalog
from salespipe.generate.defects import DirtyBatch
from salespipe.generate.dialects import CSV, JSONL, TSV, TextDialect
from salespipe.generate.formatting import COLUMNS
from salespipe.generate.render_table import SCHEMA, TableRenderer
from salespipe.generate.render_text import TextRenderer

# I/O calls queued for the worker thread (a text call holds one rendered slice).
MAX_PENDING_WRITES = 4
PARQUET_ROW_GROUP = 250_000
XLSX_MAX_ROWS = 1_048_575  # one sheet holds 1,048,576 rows, the header included
# Fixed zip and document timestamps make Excel files byte-identical per seed.
XLSX_TIMESTAMP = datetime(2000, 1, 1)

FileIO = Callable[[], None]


class SalesFileWriter(Protocol):
    def prepare(self, batch: DirtyBatch) -> Iterator[FileIO]:
        """Render `batch` piece by piece; each yielded call writes one piece (run later,
        in order). Rendering lazily keeps only a few pieces in memory."""
        ...

    def close(self) -> None: ...


FileOpener = Callable[[Path], SalesFileWriter]


@dataclass(frozen=True)
class OutputFormat:
    name: str
    extension: str
    max_rows_per_file: int | None
    # Given the run's catalog, returns a function opening one file.
    prepare: Callable[[Catalog], FileOpener]


class BackgroundFiles:
    """Writes a sequence of files: rendering on the calling thread, I/O on a worker.

    I/O runs in the order it is handed over; a failure on the worker surfaces
    in a later call or in `finish`.
    """

    def __init__(self, open_file: FileOpener, worker: ThreadPoolExecutor) -> None:
        self._open_file = open_file
        self._worker = worker
        self._pending: deque[Future[None]] = deque()
        self._current: SalesFileWriter | None = None

    def start(self, path: Path) -> None:
        """Close the current file (if any) and continue in a new one."""
        self._close_current()
        self._current = self._open_file(path)

    def write(self, batch: DirtyBatch) -> int:
        """Render and queue `batch`; returns its number of lines."""
        if self._current is None:
            raise RuntimeError("write before start")
        for call in self._current.prepare(batch):
            self._submit(call)
        return len(batch)

    def finish(self) -> None:
        """Close the last file and wait until everything is written."""
        self._close_current()
        while self._pending:
            self._pending.popleft().result()

    def _close_current(self) -> None:
        if self._current is not None:
            self._submit(self._current.close)
            self._current = None

    def _submit(self, call: FileIO) -> None:
        self._pending.append(self._worker.submit(call))
        while len(self._pending) > MAX_PENDING_WRITES:
            self._pending.popleft().result()


class TextFileWriter:
    """CSV, TSV or JSON lines."""

    def __init__(self, path: Path, renderer: TextRenderer) -> None:
        self._file: BinaryIO = path.open("wb")
        self._renderer = renderer
        self._file.write(renderer.header())

    def prepare(self, batch: DirtyBatch) -> Iterator[FileIO]:
        for buffer in self._renderer.render(batch):
            yield partial(self._write, buffer)

    def _write(self, buffer: pa.Buffer) -> None:
        self._file.write(buffer)

    def close(self) -> None:
        self._file.close()


class ParquetFileWriter:
    """Parquet with string columns, in row groups of about PARQUET_ROW_GROUP lines."""

    def __init__(self, path: Path, renderer: TableRenderer) -> None:
        self._writer = pq.ParquetWriter(str(path), SCHEMA, compression="zstd")
        self._renderer = renderer
        self._buffered: list[pa.Table] = []
        self._buffered_rows = 0

    def prepare(self, batch: DirtyBatch) -> Iterator[FileIO]:
        yield partial(self._append, self._renderer.render(batch))

    def _append(self, table: pa.Table) -> None:
        self._buffered.append(table)
        self._buffered_rows += table.num_rows
        if self._buffered_rows >= PARQUET_ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        if self._buffered_rows:
            table = pa.concat_tables(self._buffered).combine_chunks()
            self._writer.write_table(table, row_group_size=PARQUET_ROW_GROUP)
        self._buffered, self._buffered_rows = [], 0

    def close(self) -> None:
        try:
            self._flush()
        finally:
            self._writer.close()


class XlsxFileWriter:
    """One sheet named 'sales', every cell text; slow, meant for small files."""

    def __init__(self, path: Path, renderer: TableRenderer) -> None:
        from openpyxl import Workbook

        self._path = path
        self._renderer = renderer
        self._workbook = Workbook(write_only=True)
        self._workbook.properties.created = XLSX_TIMESTAMP
        self._sheet = self._workbook.create_sheet("sales")
        self._sheet.append(list(COLUMNS))

    def prepare(self, batch: DirtyBatch) -> Iterator[FileIO]:
        yield partial(self._append, self._renderer.render(batch))

    def _append(self, table: pa.Table) -> None:
        for row in zip(*(column.to_pylist() for column in table.columns), strict=True):
            self._sheet.append(row)

    def close(self) -> None:
        self._workbook.save(self._path)
        _pin_zip_timestamps(self._path)


def _pin_zip_timestamps(path: Path) -> None:
    """Rewrite an .xlsx with fixed entry times and document dates (openpyxl stamps 'now')."""
    stamp = XLSX_TIMESTAMP.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp, data
                )
            pinned = zipfile.ZipInfo(info.filename, date_time=XLSX_TIMESTAMP.timetuple()[:6])
            pinned.compress_type = zipfile.ZIP_DEFLATED
            pinned.external_attr = info.external_attr
            target.writestr(pinned, data)


def _text(dialect: TextDialect) -> Callable[[Catalog], FileOpener]:
    def prepare(catalog: Catalog) -> FileOpener:
        renderer = TextRenderer(catalog, dialect)
        return lambda path: TextFileWriter(path, renderer)

    return prepare


def _parquet(catalog: Catalog) -> FileOpener:
    renderer = TableRenderer(catalog)
    return lambda path: ParquetFileWriter(path, renderer)


def _xlsx(catalog: Catalog) -> FileOpener:
    renderer = TableRenderer(catalog)
    return lambda path: XlsxFileWriter(path, renderer)


FORMATS: dict[str, OutputFormat] = {
    f.name: f
    for f in (
        OutputFormat("csv", "csv", None, _text(CSV)),
        OutputFormat("tsv", "tsv", None, _text(TSV)),
        OutputFormat("jsonl", "jsonl", None, _text(JSONL)),
        OutputFormat("parquet", "parquet", None, _parquet),
        OutputFormat("xlsx", "xlsx", XLSX_MAX_ROWS, _xlsx),
    )
}
