"""How generated values become text, vectorised with numpy, handed to Arrow.

Money is integer cents written with two decimals ('12.50', '-0.05'),
timestamps are 'YYYY-MM-DD HH:MM:SS' in store-local time, transaction ids are
'T' plus a number. Shared by the text and the table renderers so every format
carries the same strings. Numbers are laid out as digit bytes in a matrix
(zero bytes as padding) and the padding is squeezed out: no Python loop over
values, no Arrow cast.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ByteMatrix = npt.NDArray[np.uint8]

# Output columns: the canonical field names of DESIGN.md, in file order.
COLUMNS = (
    "transaction_id",
    "line_no",
    "sold_at",
    "store_id",
    "store_name",
    "city",
    "region",
    "country",
    "product_id",
    "product_name",
    "category",
    "subcategory",
    "brand",
    "quantity",
    "unit_price",
    "discount",
    "unit_cost",
    "customer_id",
    "customer_name",
    "salesperson_id",
    "salesperson_name",
    "channel",
    "payment_method",
    "currency",
)
TRANSACTION_PREFIX = "T"
DAY_SECONDS = 86_400

# Arrays reach Arrow through their buffers: `pa.array` or a Python scalar in a
# compute call makes pyarrow import pandas when installed (a third of a second).


def int_array(values: IntArray) -> pa.Int64Array:
    data = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), data.size, [None, pa.py_buffer(data)])


def bool_array(values: BoolArray) -> pa.BooleanArray:
    bits = np.packbits(np.asarray(values, dtype=bool), bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(bits)])


def string_array(values: Sequence[str | None]) -> pa.StringArray:
    """An Arrow string array of Python strings (None is null)."""
    encoded = [b"" if v is None else v.encode() for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    valid = np.array([v is not None for v in values], dtype=bool)
    validity = None if valid.all() else bool_array(valid).buffers()[1]
    return pa.StringArray.from_buffers(
        len(encoded), pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded)), validity
    )


def take(table: pa.StringArray, index: IntArray | npt.NDArray[np.int32]) -> pa.StringArray:
    """table[index[i]] for every i."""
    data = np.ascontiguousarray(index)
    kind = pa.int32() if data.dtype == np.int32 else pa.int64()
    if data.dtype not in (np.int32, np.int64):
        data = data.astype(np.int64)
    return table.take(pa.Array.from_buffers(kind, data.size, [None, pa.py_buffer(data)]))


def replace_where(
    values: pa.StringArray, bad: IntArray, rendered: pa.StringArray
) -> pa.StringArray:
    """values, with rendered[bad[i]] at every line i where bad[i] >= 0."""
    mask = bad >= 0
    if not mask.any():
        return values
    return pc.replace_with_mask(values, bool_array(mask), take(rendered, bad[mask]))


def _text_columns(text: str, rows: int) -> ByteMatrix:
    encoded = np.frombuffer(text.encode(), dtype=np.uint8)
    return np.broadcast_to(encoded, (rows, encoded.size))


def _digits(values: IntArray, keep_zeros: int = 1) -> ByteMatrix:
    """Decimal digits of non-negative values, right-aligned; leading zeros become
    padding except the last `keep_zeros` digits."""
    width = max(len(str(int(values.max()))) if values.size else 1, keep_zeros)
    out = np.empty((values.size, width), dtype=np.uint8)
    rest = values.copy()
    for column in range(width - 1, -1, -1):
        out[:, column] = 48 + rest % 10
        rest //= 10
    leading = np.logical_and.accumulate(out[:, : width - keep_zeros] == 48, axis=1)
    out[:, : width - keep_zeros][leading] = 0
    return out


def _squeeze(matrix: ByteMatrix) -> pa.StringArray:
    """Each row of a byte matrix as a string, without its zero (padding) bytes."""
    keep = matrix != 0
    offsets = np.zeros(matrix.shape[0] + 1, dtype=np.int32)
    np.cumsum(keep.sum(axis=1), out=offsets[1:])
    data = np.ascontiguousarray(matrix[keep])
    return pa.StringArray.from_buffers(matrix.shape[0], pa.py_buffer(offsets), pa.py_buffer(data))


def format_numbers(
    values: IntArray, *, decimals: int = 0, prefix: str = "", suffix: str = ""
) -> pa.StringArray:
    """prefix + number + suffix per value; `decimals` = 2 reads integer cents as money."""
    values = np.asarray(values, dtype=np.int64)
    n = values.size
    magnitude = np.abs(values)
    sign = np.where(values < 0, ord("-"), 0).astype(np.uint8)[:, None]
    parts = [_text_columns(prefix, n), sign]
    if decimals:
        whole, fraction = np.divmod(magnitude, 10**decimals)
        parts += [_digits(whole), _text_columns(".", n), _digits(fraction, keep_zeros=decimals)]
    else:
        parts.append(_digits(magnitude))
    parts.append(_text_columns(suffix, n))
    return _squeeze(np.hstack(parts))


def format_cents(values: IntArray, prefix: str = "", suffix: str = "") -> pa.StringArray:
    """'12.50' for 1250, '-0.05' for -5."""
    return format_numbers(values, decimals=2, prefix=prefix, suffix=suffix)


def format_integers(values: IntArray, prefix: str = "", suffix: str = "") -> pa.StringArray:
    return format_numbers(values, prefix=prefix, suffix=suffix)


def _clock() -> ByteMatrix:
    """'HH:MM:SS' as bytes for every second of a day."""
    second = np.arange(DAY_SECONDS, dtype=np.int64)
    clock = np.empty((DAY_SECONDS, 8), dtype=np.uint8)
    for field, value in enumerate((second // 3600, second // 60 % 60, second % 60)):
        clock[:, 3 * field] = 48 + value // 10
        clock[:, 3 * field + 1] = 48 + value % 10
    clock[:, [2, 5]] = ord(":")
    return clock


_CLOCK = _clock()


def day_timestamps(
    day: date, prefix: str = "", suffix: str = "", seconds: npt.NDArray[np.int64] | None = None
) -> pa.StringArray:
    """prefix + 'YYYY-MM-DD HH:MM:SS' + suffix for the given seconds of `day` (sorted,
    distinct; default every second of the day), in that order."""
    head = f"{prefix}{day.isoformat()} ".encode()
    tail = suffix.encode()
    width = len(head) + 8 + len(tail)
    count = DAY_SECONDS if seconds is None else int(seconds.size)
    stamps = np.empty((count, width), dtype=np.uint8)
    stamps[:, : len(head)] = np.frombuffer(head, dtype=np.uint8)
    stamps[:, len(head) : len(head) + 8] = _CLOCK if seconds is None else _CLOCK[seconds]
    stamps[:, len(head) + 8 :] = np.frombuffer(tail, dtype=np.uint8)
    offsets = np.arange(count + 1, dtype=np.int32) * width
    return pa.StringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(stamps))
