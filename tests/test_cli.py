"""The imuback command end to end: every subcommand has --help; simulate -> process -> dataset."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

from imuback.cli import build_parser, main


def _subcommands() -> list[list[str]]:
    parser = build_parser()
    out = []
    for action in parser._subparsers._group_actions:
        for name, sub in action.choices.items():
            out.append([name])
            for sub_action in getattr(sub, "_subparsers", None)._group_actions if sub._subparsers else []:
                out += [[name, child] for child in sub_action.choices]
    return out


@pytest.mark.parametrize("argv", _subcommands(), ids=lambda a: " ".join(a))
def test_every_subcommand_has_help(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--help"])
    assert exc.value.code == 0
    assert "usage: imuback" in capsys.readouterr().out


def test_simulate_then_process_into_a_dataset(tmp_path):
    raw_dir, ds = tmp_path / "raw", tmp_path / "ds"
    assert main(["simulate", "--out", str(raw_dir), "--sessions", "2", "--minutes", "2", "--seed", "3",
                 "--runner", "r7"]) == 0
    raws = sorted(raw_dir.glob("*.parquet"))
    assert len(raws) == 2
    proc = subprocess.run([sys.executable, "-m", "imuback.cli", "process", *map(str, raws), "--dataset", str(ds)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("steps") == 2
    con = duckdb.connect()
    n_sessions, runner = con.execute(
        f"SELECT count(*), any_value(runner_id) FROM read_parquet('{ds}/sessions/**/*.parquet', "
        "hive_partitioning=true)").fetchone()
    assert (n_sessions, runner) == (2, "r7")
    (n_steps,) = con.execute(f"SELECT count(*) FROM read_parquet('{ds}/steps/**/*.parquet', "
                             "hive_partitioning=true) WHERE activity = 'run'").fetchone()
    assert n_steps > 2 * 2 * 60 * 2.5  # two sessions, two minutes each, > 150 steps/min


def test_process_reports_a_bad_file_and_exits_nonzero(tmp_path, capsys):
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet at all")
    assert main(["process", str(bad), "--dataset", str(tmp_path / "ds")]) == 1
    err = capsys.readouterr().err
    assert "bad.parquet" in err and "not a readable Parquet file" in err


def test_help_gives_every_default_in_one_style(capsys):
    parser = build_parser()
    seen = 0
    for argv in _subcommands():
        with pytest.raises(SystemExit):
            main([*argv, "--help"])
        out = " ".join(capsys.readouterr().out.split())
        assert "(default " not in out and "(default:(" not in out, argv
        seen += out.count("(default: ")
    assert seen > 20
    assert parser is not None


@pytest.mark.parametrize("argv, hint", [
    (["record", "--address", "AA", "--runner", "r1", "--out", "x", "--minutes", "3"], "--stop-after 3"),
    (["record", "--simulate", "--out", "x", "--stop-after", "3"], "--minutes"),
])
def test_minutes_means_minutes_of_running_everywhere(argv, hint, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "error:" in err and hint in err and "Traceback" not in err


def test_a_command_group_that_fails_to_import_fails_loudly(tmp_path):
    # a broken group module must break `imuback`, not silently drop its subcommands
    code = ("import sys, types; m = types.ModuleType('imuback.cli.report'); "
            "sys.modules['imuback.cli.report'] = m; import imuback.cli.main")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode != 0 and "report" in proc.stderr


def test_process_a_csv_with_runner_and_start(tmp_path, capsys):
    from tests.signal.analytic import half_sine_run

    raw, _ = half_sine_run(minutes=0.5)
    t0 = raw.time_ns[0]
    rows = ["time;acc_x;acc_y;acc_z"] + [f"{(t - t0) / 1e9:.4f};{a[0]:.4f};{a[1]:.4f};{a[2]:.4f}"
                                         for t, a in zip(raw.time_ns, raw.acc_mps2, strict=True)]
    csv = tmp_path / "phone run.csv"
    csv.write_text("\n".join(rows) + "\n")
    ds = tmp_path / "ds"
    assert main(["process", str(csv), "--dataset", str(ds), "--runner", "ann"]) == 1
    assert "seconds since the start, not a date; give the start time (--start" in capsys.readouterr().err
    assert main(["process", str(csv), "--dataset", str(ds), "--start", "2024-05-01T08:00:00+02:00"]) == 1
    err = capsys.readouterr().err
    assert "no runner id" in err and "give --runner" in err
    assert main(["process", str(csv), "--dataset", str(ds), "--runner", "ann",
                 "--start", "2024-05-01T08:00:00+02:00"]) == 0
    out = capsys.readouterr().out
    assert "session phone-run-20240501T060000Z" in out
    assert (ds / "sessions" / "runner=ann" / "session=phone-run-20240501T060000Z").is_dir()


def test_a_recording_processed_under_another_runner_is_refused_then_moved_with_its_notes(tmp_path, capsys):
    """Processing a stored recording again with another --runner never moves it silently: refused,
    naming both runners; with --replace it moves, notes included, and says so."""
    from imuback.store.notes import read_notes
    from tests.signal.analytic import half_sine_run

    raw, _ = half_sine_run(minutes=0.5)
    t0 = raw.time_ns[0]
    csv = tmp_path / "run.csv"
    csv.write_text("\n".join(["time,acc_x,acc_y,acc_z"] + [f"{(t - t0) / 1e9:.4f},{a[0]:.4f},{a[1]:.4f},{a[2]:.4f}"
                                                          for t, a in zip(raw.time_ns, raw.acc_mps2, strict=True)]))
    ds = tmp_path / "ds"
    given = ["process", str(csv), "--dataset", str(ds), "--session", "s1", "--start", "2024-05-01T08:00:00Z"]
    assert main([*given, "--runner", "ann"]) == 0
    assert main(["note", "--dataset", str(ds), "--runner", "ann", "--session", "s1", "--pain", "6"]) == 0
    capsys.readouterr()
    assert main([*given, "--runner", "bob"]) == 1
    err = capsys.readouterr().err
    assert "session 's1' is already in" in err and "under runner 'ann'" in err
    assert "not filed again under runner 'bob'" in err and "pass --replace" in err
    assert sorted(p.name for p in (ds / "sessions").iterdir()) == ["runner=ann"]
    assert main([*given, "--runner", "bob", "--replace"]) == 0
    assert "session s1 moved from runner 'ann' to 'bob' with 1 note" in capsys.readouterr().out
    assert sorted(p.name for p in (ds / "sessions").iterdir()) == ["runner=bob"]
    assert read_notes(ds, runner_id="bob", session_id="s1")["pain_0_10"].tolist() == [6]
    assert read_notes(ds, runner_id="ann").empty


def test_a_stored_treadmill_speed_is_kept_until_cleared_with_speed_0(tmp_path, capsys):
    """A belt speed given once stays when the recording is processed again (``--replace`` too);
    ``--speed-mps 0`` clears it; ``process --help`` says so."""
    import pyarrow.parquet as pq

    import imuback
    from imuback.store.raw import write_raw

    path = write_raw(tmp_path / "tm.parquet", imuback.simulate(minutes=1, seed=2, runner_id="tm"))
    ds = tmp_path / "ds"

    def stored() -> tuple[str, float | None]:
        row = pq.read_table(next((ds / "sessions").rglob("*.parquet"))).to_pylist()[0]
        return row["speed_source"], row["treadmill_speed_mps"]

    assert main(["process", str(path), "--dataset", str(ds), "--speed-mps", "3.2"]) == 0
    assert stored() == ("treadmill", 3.2)
    assert main(["process", str(path), "--dataset", str(ds)]) == 0
    assert stored() == ("treadmill", 3.2)
    assert main(["process", str(path), "--dataset", str(ds), "--replace"]) == 0
    assert stored() == ("treadmill", 3.2)
    assert main(["process", str(path), "--dataset", str(ds), "--speed-mps", "0"]) == 0
    assert stored() == ("none", None)
    assert main(["process", str(path), "--dataset", str(ds)]) == 0
    assert stored() == ("none", None)  # cleared for good, not brought back
    assert main(["process", str(path), "--dataset", str(ds), "--speed-mps", "-1"]) == 1
    assert stored() == ("none", None)
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["process", "--help"])
    assert "0 clears a stored speed" in " ".join(capsys.readouterr().out.split())


def test_the_same_bytes_given_another_start_are_stored_again(tmp_path):
    """An Xsens export is timed by --start: the same file under the same --session with another
    start is not a no-op (it was: the stored start stayed)."""
    import numpy as np
    import pyarrow.parquet as pq

    from tests.formats.test_xsens import _export

    path = _export(tmp_path / "lb.txt", np.arange(3000))[0]
    ds = tmp_path / "ds"
    for start in ("2024-03-04T07:00:00Z", "2024-03-04T08:00:00Z"):
        assert main(["process", str(path), "--dataset", str(ds), "--runner", "v1", "--session", "s1",
                     "--start", start]) == 0
        stored = pq.read_table(next((ds / "sessions").rglob("*.parquet"))).column("start_time")[0].as_py()
        assert stored.isoformat() == start.replace("Z", "+00:00")


def test_start_with_several_files_is_refused_before_any_is_processed(tmp_path, capsys):
    """One start for several files would date every relative recording from the same moment, and
    refuse the ones with dates of their own: a mixed batch half processed. Refused up front, as
    in 'imuback batch' (a raw Parquet file beside one CSV is fine: it ignores --start, see
    tests/formats/test_csv.py)."""
    from tests.signal.analytic import half_sine_run

    raw, _ = half_sine_run(minutes=0.1)
    rel, epoch = tmp_path / "rel.csv", tmp_path / "epoch.csv"
    rows = list(zip(raw.time_ns, raw.acc_mps2, strict=True))
    rel.write_text("time,acc_x,acc_y,acc_z\n" + "".join(
        f"{(t - raw.time_ns[0]) / 1e9:.4f},{a[0]:.4f},{a[1]:.4f},{a[2]:.4f}\n" for t, a in rows))
    epoch.write_text("time,acc_x,acc_y,acc_z\n" + "".join(f"{t},{a[0]:.4f},{a[1]:.4f},{a[2]:.4f}\n" for t, a in rows))
    ds = tmp_path / "ds"
    assert main(["process", str(rel), str(epoch), "--dataset", str(ds), "--runner", "ann",
                 "--start", "2024-05-01T08:00:00Z"]) == 2
    err = capsys.readouterr().err
    assert "--start 2024-05-01T08:00:00Z is the time of one recording's first sample; give it with one file " \
           "(got 2 that are not raw Parquet" in err
    assert err.rstrip().endswith("or use 'imuback batch', whose --start dates every file that states no start")
    assert not ds.exists()
    assert main(["process", str(epoch), "--dataset", str(ds), "--runner", "ann"]) == 0  # dated by itself


def test_processing_the_same_file_again_says_up_to_date_and_writes_nothing(tmp_path, capsys):
    """The word batch uses for a file it skips: the second run finds the rows stored and writes
    nothing (same bytes and mtimes); a new belt speed is a change and is written."""
    import imuback
    from imuback.store.raw import write_raw

    path = write_raw(tmp_path / "r.parquet", imuback.simulate(minutes=0.5, seed=4, runner_id="u1"))
    ds = tmp_path / "ds"

    def files() -> dict[str, tuple[int, bytes]]:
        return {str(p.relative_to(ds)): (p.stat().st_mtime_ns, p.read_bytes()) for p in ds.rglob("*") if p.is_file()}

    assert main(["process", str(path), "--dataset", str(ds)]) == 0
    out = capsys.readouterr().out
    assert f"strides -> {ds}" in out and "up to date" not in out
    before = files()
    assert main(["process", str(path), "--dataset", str(ds)]) == 0
    assert f"strides; up to date in {ds} (nothing written)" in capsys.readouterr().out
    assert files() == before
    assert main(["process", str(path), "--dataset", str(ds), "--speed-mps", "3"]) == 0
    out = capsys.readouterr().out
    assert f"strides -> {ds}" in out and "up to date" not in out
    assert files() != before
