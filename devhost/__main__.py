"""``python -m devhost --app-dir DIR [--port 7071] [--settings local.settings.json]``.

Serves the app in the foreground like ``func start`` until SIGINT or SIGTERM.
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from .host import FunctionsHost


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("[%(asctime)s] %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Storage SDK request logs would print URLs and headers of every poll.
    logging.getLogger("azure").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devhost", description=__doc__.splitlines()[0])
    parser.add_argument("--app-dir", type=Path, default=Path.cwd(), help="folder with function_app.py")
    parser.add_argument("--port", type=int, default=7071)
    parser.add_argument("--settings", type=Path, default=None, help="local.settings.json (default: in app dir)")
    parser.add_argument("--verbose", action="store_true", help="also log each HTTP request")
    args = parser.parse_args(argv)

    configure_logging(logging.DEBUG if args.verbose else logging.INFO)
    if args.verbose:
        logging.getLogger("azure").setLevel(logging.WARNING)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    host = FunctionsHost(args.app_dir, args.port, settings_path=args.settings)
    try:
        host.start()
    except Exception:
        logging.getLogger("devhost").exception("Host failed to start")
        return 1
    try:
        while not stop.wait(0.5):
            pass
    finally:
        logging.getLogger("devhost").info("Stopping host...")
        host.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
