"""The documented data contract lists every column of every schema, and says when one is null as
schema.py does (docs cannot drift silently)."""

import re
from pathlib import Path

import pytest

from imuback.store.schema import RAW_SCHEMA, TABLE_SCHEMAS

DOC = Path(__file__).resolve().parents[2] / "docs" / "data_contract.md"


@pytest.mark.parametrize("schema", [RAW_SCHEMA, *TABLE_SCHEMAS.values()])
def test_every_column_is_documented(schema):
    text = DOC.read_text()
    missing = [f.name for f in schema if f"`{f.name}`" not in text]
    assert not missing, f"docs/data_contract.md does not document {missing}"


NULL_ELSEWHERE = {"status"}
"""Columns whose data-contract row says "null" of other figures, not of the column itself."""


@pytest.mark.parametrize("schema", [RAW_SCHEMA, *TABLE_SCHEMAS.values()])
def test_a_column_the_contract_says_can_be_null_says_so_in_the_schema(schema):
    """Review 23: braking_peak_g's null-without-a-contact rule was in the doc but not in schema.py."""
    rows = re.findall(r"^\| `([a-z0-9_]+)` \|(.*)$", DOC.read_text(), flags=re.MULTILINE)
    null_in_doc = {name for name, rest in rows if "null" in rest} - NULL_ELSEWHERE
    silent = [f.name for f in schema if f.name in null_in_doc
              and "null" not in (f.metadata or {}).get(b"description", b"").decode()]
    assert not silent, f"schema.py does not say when {silent} are null, as docs/data_contract.md does"
