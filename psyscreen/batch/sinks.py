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

    def write(self, table, neutralised: bool = False) -> None:
        """Append ``table``; ``neutralised``: a worker already neutralised its text cells."""
        from .privacy import neutralise_table

        # neutralised before the schema check, so that header names compare as a
        # worker's neutralised tables do (neutralising is idempotent)
        if self.neutralise and not neutralised:
            table = neutralise_table(table)
        if self.schema is None:
            self.schema = table.schema
        elif table.schema != self.schema:
            table = table.select(self.schema.names).cast(self.schema)
            if self.neutralise:  # a cast can make a column text
                table = neutralise_table(table)
        self.writer.write(table)

    def write_rows(self, schema, data: bytes, rows: int) -> bool:
        """Append CSV rows a worker encoded from a table of ``schema`` (already neutralised).

        Returns False, writing nothing, when ``schema`` is not the file's: the caller
        then writes the table itself (cast to the file's schema, as :meth:`write` does).
        """
        if self.schema is None:
            self.schema = schema
        elif schema != self.schema:
            return False
        self.writer.write_csv_rows(schema, data, rows)
        return True

    def close(self) -> None:
        self.writer.close()
