"""``imuback serve``: parse arguments, start the clinic page."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from imuback.cli import paths
from imuback.errors import ImubackError


def _cmd_serve(args: argparse.Namespace) -> int:
    from imuback.serve.app import LOCAL_HOSTS, serve

    dataset = Path(args.dataset)
    if args.read_only and not dataset.is_dir():
        raise ImubackError(f"{dataset}: no such dataset folder; a read-only clinic page needs one")
    if args.host in ("0.0.0.0", "::", ""):
        raise ImubackError(f"--host {args.host!r} listens on every address, but the clinic page answers only "
                           "requests that name the address it was given (a guard against other sites): give "
                           "the address this computer is reached by, e.g. --host 192.168.1.20")
    if args.host not in LOCAL_HOSTS:
        print(f"warning: serving on {args.host}: anyone who can reach this address sees the runners' "
              "data. The clinic page is meant for this computer (127.0.0.1).", file=sys.stderr)
    if not dataset.exists():  # a first run starts from uploads; a mistyped path would look empty
        print(f"note: {dataset} does not exist: starting a new, empty dataset there (uploads go into it). "
              "To open an existing dataset, stop (Ctrl-C) and give its folder.", file=sys.stderr)
    where = f"http://{args.host}:{args.port}/"
    print(f"imuback clinic page on {where} over {dataset} ({'read-only' if args.read_only else 'read-write'});"
          " Ctrl-C stops it", flush=True)
    serve(dataset, host=args.host, port=args.port, read_only=args.read_only, max_upload_mb=args.max_upload_mb)
    return 0


def register(subparsers: Any) -> None:
    """Add ``serve`` to the ``imuback`` command."""
    p = subparsers.add_parser(
        "serve", help="the clinic page: a local web app for the physical therapist",
        description="A local web app over the dataset: runners, their sessions (date, length, data "
                    "quality, flags), the session and trends reports, notes, and uploads of raw "
                    "recordings processed in the background. Listens on this computer only by default.")
    p.add_argument("--dataset", required=True, type=paths.dataset_to_write,
                   help="processed dataset directory; a new one is started if missing (said on start), "
                        "except with --read-only")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (default: 8765)")
    p.add_argument("--read-only", action="store_true", help="no uploads and no notes")
    p.add_argument("--max-upload-mb", type=float, default=256.0,
                   help="largest upload accepted at once, in MB (default: 256)")
    p.set_defaults(func=_cmd_serve)
