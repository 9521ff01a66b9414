"""`python -m emulators.azure --config <json> [--set name=value ...]`: serve the emulator until
SIGTERM/SIGINT. When it serves, it writes <root>/emulator.json (ports, URLs, CA file) and prints
"ready"."""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading

from emulators.azure import config as config_file
from emulators.azure.server import build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="the EmulatorConfig as JSON (devstack writes it)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override a setting")
    parser.add_argument("--log-level", default=os.environ.get("AZURE_EMULATOR_LOG_LEVEL", "INFO"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("azure").setLevel(logging.WARNING)  # the SDK's per-request HTTP logging
    config = config_file.load(args.config, config_file.parse_overrides(args.set))
    # The emulator's own clients (Azurite over HTTPS) trust the CA it makes.
    os.environ.setdefault("REQUESTS_CA_BUNDLE", str(config.ca_file))
    os.environ.setdefault("SSL_CERT_FILE", str(config.ca_file))
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    emulator = build(config).start()
    try:
        (config.root / "emulator.json").write_text(json.dumps({
            "pid": os.getpid(), "base_url": config.base_url, "https_port": config.https_port,
            "identity_port": config.identity_port,
            "identity_endpoint": f"http://127.0.0.1:{config.identity_port}/msi/token",
            "ca_file": str(config.ca_file), "requests_trail": str(config.root / "requests.jsonl"),
            "parts": emulator.parts,
        }, indent=2))
        print("ready", flush=True)
        stopped.wait()
    finally:
        emulator.stop()
        (config.root / "emulator.json").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
