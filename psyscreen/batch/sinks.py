"""Table sinks: one output file written chunk by chunk with the schema of its first chunk."""

from __future__ import annotations

from pathlib import Path

from .io import Writer


class _TableSink:
    """A writer that keeps the schema of the first table and casts later ones to it."""

    def __init__(self, path: Path, neutralise: bool):
        self.writer = Writer(path)
        self.schema = None
        self.neutralise = neutralise and self.writer.format in ("csv", "xlsx")
        #: CSV takes text columns as dictionary arrays (decoded as they are encoded);
        #: other formats are given plain strings (a Parquet file's types stay as they were)
        self.dictionaries = self.writer.format == "csv"

    def write(self, table) -> None:
        """Append ``table`` (its formula-like text cells neutralised if asked)."""
        from .privacy import neutralise_table

        # neutralised before the schema check: header names then compare as those of
        # the first table, neutralised too
        if not self.dictionaries:
            table = _decoded(table)
        if self.neutralise:
            table = neutralise_table(table)
        if self.schema is None:
            self.schema = table.schema
        elif table.schema != self.schema:
            table = table.select(self.schema.names).cast(self.schema)
            if self.neutralise:  # a cast can make a column text
                table = neutralise_table(table)
        self.writer.write(table)

    def close(self) -> None:
        self.writer.close()


def _decoded(table):
    """``table`` with its dictionary columns as plain strings."""
    import pyarrow as pa

    for i, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(field.type.value_type))
    return table
