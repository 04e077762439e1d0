"""The documented data contract lists every column of every schema (docs cannot drift silently)."""

from pathlib import Path

import pytest

from imuback.store.schema import RAW_SCHEMA, TABLE_SCHEMAS

DOC = Path(__file__).resolve().parents[2] / "docs" / "data_contract.md"


@pytest.mark.parametrize("schema", [RAW_SCHEMA, *TABLE_SCHEMAS.values()])
def test_every_column_is_documented(schema):
    text = DOC.read_text()
    missing = [f.name for f in schema if f"`{f.name}`" not in text]
    assert not missing, f"docs/data_contract.md does not document {missing}"
