"""Exception types. Every message names the file, column, packet or session and what to do."""

from typing import Literal


class ImubackError(Exception):
    """Base class of all errors imuback raises on purpose."""


class RawFormatError(ImubackError):
    """A raw session file is unreadable or breaks the raw data contract."""


UnitsKind = Literal["acc_in_g", "acc_scale", "acc_dead", "gyr_rad_s", "gyr_dead"]


class UnitsError(RawFormatError):
    """Sensor values are in the wrong unit (e.g. acceleration in g instead of m/s²).

    ``kind`` says which check failed (None: not said), so callers branch on it, never on the
    message (which starts with the file's path): ``"acc_in_g"``, ``"acc_scale"`` (not gravity in
    any unit we read), ``"acc_dead"`` (one accelerometer axis exactly constant while the others
    move), ``"gyr_rad_s"`` (rad/s or not worn), ``"gyr_dead"`` (reads 0 throughout).
    """

    def __init__(self, *args: object, kind: UnitsKind | None = None) -> None:
        super().__init__(*args)
        self.kind = kind  # kept by pickling (the instance __dict__), so batch workers pass it on


class SchemaError(ImubackError):
    """A processed table does not match the documented schema."""


class SignalError(ImubackError):
    """The signal cannot be processed (e.g. no gravity direction can be found)."""


class ParamsError(ImubackError, ValueError):
    """Pipeline parameters that contradict each other."""


class ProtocolError(ImubackError):
    """A sensor sent bytes that do not follow its protocol."""


class CollectError(ImubackError):
    """The BLE collector cannot reach or keep the chosen sensor."""


class SimulationError(ImubackError, ValueError):
    """The simulator was given parameters it cannot turn into a plausible session."""


class ReportDataError(ImubackError):
    """The dataset does not hold what a report needs (no such session or runner, no rows)."""


class PdfExportError(ImubackError):
    """No Chromium to print with, or printing failed."""


class JournalBusy(CollectError):
    """The journal is locked by a recorder that is still running."""


class QueryError(ImubackError):
    """A cohort query cannot run (bad SQL, missing dataset, unknown output format)."""


class DriverGoneError(ImubackError):
    """A local worker got a task after its batch driver had exited; the task was not run."""


class VersionMismatchError(ImubackError):
    """A worker runs another pipeline version than the driver."""


class BatchInputError(ImubackError):
    """A batch input names nothing to process, or a batch cannot start."""


class DatasetError(ImubackError):
    """A dataset cannot be written as asked: another writer holds it, it is not a folder, or it
    holds a different recording under the same (runner, session).
    """


class RefiledError(DatasetError):
    """The recording is already stored under another runner's id: moving it (with its notes) to
    the runner now given needs ``--replace``; nothing is moved silently.
    """


class RedatedError(DatasetError):
    """A file of one session dated by the start given to it is stored with another start: the same
    bytes are that session, so re-dating it needs ``--replace`` (it keeps its session id).
    """

    runner_id: str | None = None
    session_id: str | None = None
    """The stored session (set where it is raised): a batch's error row names it."""


class UnknownSessionError(DatasetError):
    """A session to delete is not in the dataset (no runner, or no session, of that id)."""


class SessionHasNotesError(DatasetError):
    """A session to delete has notes (the runner's own words): deleting them too needs ``with_notes``."""


class SidecarsUnhashedError(DatasetError):
    """The stored session came from this same BIDS recording, hashed before its sidecars counted
    (schema < 1.6): a changed sidecar cannot be told apart, so it is refused until ``--replace``
    re-reads it once.
    """


class BluetoothUnavailable(CollectError):
    """No Bluetooth adapter or service to scan or record with."""


class JournalWriteError(CollectError):
    """The recording journal cannot be written (disk full, folder removed or read-only)."""


class DemoError(ImubackError):
    """The demo's output folder cannot be used."""


class NoteError(ImubackError):
    """A pain/effort note cannot be stored (unknown session, value out of range, empty note)."""
