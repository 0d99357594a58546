"""Small Arrow helpers shared by the frame operations."""

from __future__ import annotations

import pyarrow as pa


def one_array(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """`column` as one Array; a single chunk is taken as it is (`combine_chunks` would copy it)."""
    if isinstance(column, pa.Array):
        return column
    if column.num_chunks == 1:
        return column.chunk(0)
    return column.combine_chunks()
