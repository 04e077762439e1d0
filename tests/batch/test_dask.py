"""The same batch on a real Dask cluster: a LocalCluster with a scheduler and two worker
processes on the loopback interface."""

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from imuback.batch.runner import run_batch
from imuback.store.dataset import read_table
from imuback.store.errors_table import read_errors
from tests.batch.data import Study

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster() -> Iterator["distributed.LocalCluster"]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=":0") as c:  # any free port
        yield c


def test_small_study_on_a_local_cluster(cluster: "distributed.LocalCluster", study: Study,
                                        tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    summary = run_batch([study.root], dataset=ds, scheduler=cluster.scheduler_address,
                        progress="log", stream=io.StringIO())
    assert summary.backend == f"dask {cluster.scheduler_address}"
    assert summary.counts == {"processed": 6, "skipped": 0, "failed": 3}
    assert {o.error_type for o in summary.failures} == {"RawFormatError", "UnitsError"}
    assert read_errors(ds).num_rows == 3

    # The work ran in the cluster's worker processes, not here.
    with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
        worker_pids = set(client.run(os.getpid).values())
    used = {int(o.worker.rsplit(":", 1)[1]) for o in summary.outcomes if o.worker}
    assert used <= worker_pids and os.getpid() not in used

    # Same function, same rows as the local pool.
    local = run_batch([study.root], dataset=tmp_path / "local", workers=2, progress="none")
    assert local.counts == summary.counts
    for table in ("steps", "strides"):
        a = read_table(ds, table).sort_by([("session_id", "ascending")])
        b = read_table(tmp_path / "local", table).sort_by([("session_id", "ascending")])
        assert a.equals(b)

    again = run_batch([study.root], dataset=ds, scheduler=cluster.scheduler_address,
                      progress="none")
    assert again.counts == {"processed": 0, "skipped": 6, "failed": 3}
    assert read_table(ds, "sessions").num_rows == 6


@pytest.mark.parametrize("kind", ["mobgap", "csv"])
def test_two_files_with_the_same_ids_on_a_local_cluster(cluster: "distributed.LocalCluster", tmp_path: Path,
                                                        kind: str) -> None:
    """Dask workers, too, keep one file whole and refuse the other (session locks in the dataset)."""
    from tests.batch.test_same_ids import check_one_file_kept_whole, same_id_files

    files, alone = same_id_files(tmp_path, kind)
    for run in range(2):
        check_one_file_kept_whole(tmp_path, files, workers=None, run=run, alone=alone,
                                  scheduler=cluster.scheduler_address)


def test_a_dask_workers_warnings_come_back_and_are_kept(cluster: "distributed.LocalCluster", tmp_path: Path) -> None:
    """The warnings said in a cluster's worker process (collected per thread there) travel back in the
    outcomes and reach the summary and the dataset's ``warnings`` table."""
    from imuback.store.warnings_table import read_warnings
    from tests.batch.test_cli_batch import zone_warned_csvs
    from tests.test_zone_source import MADRID_NOTICE

    (tmp_path / "in").mkdir()
    files = [str(p.resolve()) for p in zone_warned_csvs(tmp_path / "in", 3)]
    ds = tmp_path / "ds"
    summary = run_batch([tmp_path / "in"], dataset=ds, scheduler=cluster.scheduler_address, runner_id="cy",
                        time_zone="Europe/Madrid", progress="none")
    assert summary.counts == {"processed": 3, "skipped": 0, "failed": 0}
    with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
        worker_pids = set(client.run(os.getpid).values())
    assert {int(o.worker.rsplit(":", 1)[1]) for o in summary.outcomes} <= worker_pids
    expected = [(f, f"{f}: {MADRID_NOTICE}") for f in files]
    assert list(summary.warnings) == expected
    assert sorted((r["source_path"], r["message"]) for r in read_warnings(ds).to_pylist()) == expected
