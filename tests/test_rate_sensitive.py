"""Impact and loading rate below 100 Hz: null in the dataset as the reports leave them out, by one
rule (``imuback.store.schema.RATE_SENSITIVE``, review 32 #3: a 25 Hz export stored a loading rate
the report hid).
"""

from __future__ import annotations

import pytest

import imuback
from imuback.report.analysis import rate_columns, session_limits
from imuback.store.schema import RATE_SENSITIVE, RATE_SENSITIVE_STRIDES, SESSIONS_SCHEMA

SESSION_COLUMNS = sorted(c for k in RATE_SENSITIVE for c in rate_columns(k) if c in SESSIONS_SCHEMA.names)
"""The sessions columns the report leaves out below the rate (rate_columns also names drifts not stored)."""


def test_the_report_and_the_schema_name_the_same_session_columns():
    """Every sessions column the report leaves out below the rate says in the schema that it is
    null there, and no other does."""
    said = sorted(f.name for f in SESSIONS_SCHEMA
                  if "RATE_SENSITIVE" in (f.metadata or {}).get(b"description", b"").decode())
    assert said == SESSION_COLUMNS


@pytest.mark.parametrize("rate_hz", [50.0, 100.0])
def test_below_100_hz_the_dataset_stores_null_as_the_report_shows_n_a(rate_hz):
    res = imuback.process(imuback.simulate(minutes=1.5, seed=3, sample_rate_hz=rate_hz))
    row = res.session.iloc[0].to_dict()
    steps, strides = res.steps, res.strides
    run = steps["activity"] == "run"
    assert run.sum() > 100 and steps.loc[run, "contact_time_s"].notna().all()
    shown = session_limits(row).row  # what the report shows of this row
    if rate_hz < 100:
        assert all(row[c] is None or row[c] != row[c] for c in SESSION_COLUMNS)
        assert steps[list(RATE_SENSITIVE)].isna().all().all()
        assert strides[[c for cs in RATE_SENSITIVE_STRIDES.values() for c in cs]].isna().all().all()
        assert row["median_contact_time_s"] > 0 and row["status"] == "ok"  # the rest is kept
    else:
        assert row["median_impact_peak_g"] > 1 and row["median_loading_rate_g_per_s"] > 0
        assert steps.loc[run, "impact_peak_g"].notna().mean() > 0.9
        assert strides["impact_asymmetry_pct"].notna().any()
    for c in SESSION_COLUMNS:  # the dataset and the report agree, column by column
        stored, reported = row[c], shown[c]
        assert (stored is None or stored != stored) == (reported is None or reported != reported), c
