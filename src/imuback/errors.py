"""Exception types. Every message names the file, column, packet or session and what to do."""


class ImubackError(Exception):
    """Base class of all errors imuback raises on purpose."""


class RawFormatError(ImubackError):
    """A raw session file is unreadable or breaks the raw data contract."""


class UnitsError(RawFormatError):
    """Sensor values are in the wrong unit (e.g. acceleration in g instead of m/s²)."""


class SchemaError(ImubackError):
    """A processed table does not match the documented schema."""


class SignalError(ImubackError):
    """The signal cannot be processed (e.g. no gravity direction can be found)."""


class ProtocolError(ImubackError):
    """A sensor sent bytes that do not follow its protocol."""


class CollectError(ImubackError):
    """The BLE collector cannot reach or keep the chosen sensor."""


class DemoError(ImubackError):
    """The demo's output folder cannot be used."""


class NoteError(ImubackError):
    """A pain/effort note cannot be stored (unknown session, value out of range, empty note)."""
