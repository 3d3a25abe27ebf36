"""The one document schema (DESIGN.md, Contracts), as Arrow and as Spark DDL."""
from __future__ import annotations

import pyarrow as pa

DOC_ARROW_SCHEMA = pa.schema([
    pa.field("id", pa.string(), nullable=False),
    pa.field("digest", pa.string()),
    pa.field("text", pa.string()),
    pa.field("source", pa.string()),
    pa.field("url", pa.string()),
    pa.field("date", pa.timestamp("us", tz="UTC")),
    pa.field("lang", pa.string()),
    pa.field("lang_score", pa.float32()),
    pa.field("quality_score", pa.float64()),
    pa.field("meta", pa.map_(pa.string(), pa.string())),
])

DOC_COLUMNS = DOC_ARROW_SCHEMA.names

DOC_SPARK_DDL = (
    "id string, digest string, text string, source string, url string, date timestamp, "
    "lang string, lang_score float, quality_score double, meta map<string,string>"
)

# Rows a stage computes before deciding: the document plus why it was dropped (null = kept).
DROP_REASON = "drop_reason"
KEPT = "kept"     # how reason counts name the rows without a drop reason
STAGED_SPARK_DDL = DOC_SPARK_DDL + f", {DROP_REASON} string"
STAGED_ARROW_SCHEMA = DOC_ARROW_SCHEMA.append(pa.field(DROP_REASON, pa.string()))


def empty_doc(**values) -> dict:
    """A document row with every column present (None where not given)."""
    row = dict.fromkeys(DOC_COLUMNS)
    row.update(values)
    return row


def docs_to_arrow(rows: list[dict], schema: pa.Schema = STAGED_ARROW_SCHEMA) -> pa.RecordBatch:
    """Rows (dicts; meta as a dict) -> one Arrow batch of the given schema."""
    columns = {}
    for field in schema:
        values = [row.get(field.name) for row in rows]
        if pa.types.is_map(field.type):
            values = [list(v.items()) if v is not None else None for v in values]
        columns[field.name] = pa.array(values, type=field.type)
    return pa.RecordBatch.from_pydict(columns, schema=schema)
