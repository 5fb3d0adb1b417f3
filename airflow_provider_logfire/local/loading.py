"""Read Parquet files into Arrow for the engine to load.

File reading happens here, in Python with pyarrow, because the engine's DuckDB is configured
with no file access at all (`enable_external_access = false`): SQL sent to the server must not be
able to read the machine's files, so the server's own loading cannot go through DuckDB's
`read_parquet` either.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq


def parquet_files(path_or_glob: str | os.PathLike[str]) -> list[Path]:
    """The Parquet files named by a path, a directory (all `*.parquet` below it) or a glob.

    Raises FileNotFoundError naming the pattern when nothing matches, so a typo in
    `--records` fails loudly instead of starting a server with no data.
    """
    pattern = os.path.expanduser(os.fspath(path_or_glob))
    if os.path.isdir(pattern):
        files = sorted(Path(pattern).rglob("*.parquet"))
    elif glob.has_magic(pattern):
        files = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
    else:
        files = [Path(pattern)] if os.path.isfile(pattern) else []
    if not files:
        raise FileNotFoundError(f"No Parquet file matches {pattern!r}")
    return files


def read_parquet(path_or_glob: str | os.PathLike[str], *, batch_size: int = 65_536) -> pa.RecordBatchReader:
    """Stream the rows of every matching Parquet file as one reader.

    Files may have different column subsets (e.g. exports from different queries); their schemas
    are unified, and a column missing from one file reads as NULL there.
    """
    files = parquet_files(path_or_glob)
    schema = pa.unify_schemas([pq.read_schema(f) for f in files], promote_options="permissive")
    dataset = ds.dataset([str(f) for f in files], schema=schema, format="parquet")
    return dataset.scanner(batch_size=batch_size).to_reader()
