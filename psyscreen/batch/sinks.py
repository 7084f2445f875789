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

    def write(self, table) -> None:
        """Append ``table`` (its formula-like text cells neutralised if asked)."""
        from .privacy import neutralise_table

        # neutralised before the schema check: header names then compare as those of
        # the first table, neutralised too
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
