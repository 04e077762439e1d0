"""formats/zone.py: zones given as text, offsets at an instant, offsets written in ISO 8601 times,
and how a bad zone is refused wherever it is typed (process, batch, record)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from imuback.cli import main
from imuback.errors import RawFormatError
from imuback.formats.zone import MAX_ZONE_LEN, offset_min_at, parse_zone, stated_zone, text_offset_min
from imuback.store.raw import write_raw
from tests.signal.analytic import half_sine_run

BAD_ZONES = ["America", "Europe", "x" * 300, "Mars/Olympus", "../etc/passwd", ""]
"""Not zones: region folders of the zone database (an OSError from zoneinfo), one too long for a
file name, an unknown place, a path, nothing."""


def test_zone_offsets_follow_summer_time() -> None:
    madrid = parse_zone("Europe/Madrid", src="t")
    winter = int(dt.datetime(2024, 3, 4, 7, tzinfo=dt.UTC).timestamp() * 1e9)
    summer = int(dt.datetime(2024, 7, 4, 7, tzinfo=dt.UTC).timestamp() * 1e9)
    assert (offset_min_at(madrid, winter), offset_min_at(madrid, summer)) == (60, 120)
    assert offset_min_at(parse_zone("-03:30", src="t"), winter) == -210
    assert offset_min_at(parse_zone("UTC", src="t"), summer) == 0
    assert text_offset_min("2024-03-04T07:00:00.5+05:45") == 345
    assert text_offset_min("2024-03-04T07:00:00Z") is None
    assert text_offset_min("2024-03-04T07:00:00") is None


@pytest.mark.parametrize("zone", BAD_ZONES)
def test_a_bad_zone_is_refused_in_one_line_naming_it(zone: str) -> None:
    with pytest.raises(RawFormatError) as err:
        parse_zone(zone, src="here")
    message = str(err.value)
    assert message.startswith("here: --time-zone ") and "is not a time zone" in message and "\n" not in message
    assert repr(zone[:MAX_ZONE_LEN]) in message and len(message) < 300
    if len(zone) > MAX_ZONE_LEN:
        assert f"({len(zone)} characters)" in message


@pytest.fixture(scope="module")
def raw_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = half_sine_run(minutes=0.2)[0]
    path = tmp_path_factory.mktemp("zone") / "run.parquet"
    write_raw(path, raw)
    return path


@pytest.mark.parametrize("zone", ["America", "x" * 300])
@pytest.mark.parametrize("command", ["process", "batch"])
def test_process_and_batch_refuse_a_bad_zone_in_one_line(tmp_path: Path, raw_file: Path, command: str, zone: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    ds = tmp_path / "ds"
    assert main([command, str(raw_file), "--dataset", str(ds), "--time-zone", zone]) != 0
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "is not a time zone" in err and repr(zone[:MAX_ZONE_LEN]) in err
    assert "Traceback" not in err and not (ds / "sessions").exists()


@pytest.mark.parametrize("zone", ["America", "x" * 300])
def test_record_refuses_a_bad_zone_before_recording(tmp_path: Path, zone: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["record", "--simulate", "--minutes", "0.2", "--out", str(tmp_path), "--session", "bad",
                 "--quiet", "--time-zone", zone]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "is not a time zone" in err
    assert not list(tmp_path.glob("*.parquet"))



@pytest.mark.parametrize("text, offset_min", [("GMT+05:30", 330), ("UTC+1", 60), ("UTC-03", -180), ("GMT", 0),
                                              ("Etc/GMT+5", -300), ("Asia/Kolkata", 330), ("GMT+15", None),
                                              ("UTC+1:75", None), ("America", None), ("", None)])
def test_stated_zone_reads_app_offsets_and_gives_none_for_the_rest(text: str, offset_min: int | None) -> None:
    zone = stated_zone(text)
    t_ns = int(dt.datetime(2024, 5, 6, 7, tzinfo=dt.UTC).timestamp() * 1e9)
    assert (None if zone is None else offset_min_at(zone, t_ns)) == offset_min
