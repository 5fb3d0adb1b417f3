"""Live telemetry for the end-to-end deployment, sent with the `logfire` SDK until stopped.

An asset watcher (an `AssetWatcher` whose trigger waits for new Logfire rows) reacts to
telemetry that arrives after it starts, which the demo data never does. This process plays the
applications: every few seconds, for each service of the demo data, one error log and one info
log, over OTLP into the local server.

    python live_traffic.py <server URL> <token> <service,service,...> <SDK data dir>
"""

from __future__ import annotations

import sys
import time

import logfire

INTERVAL = 10.0


def main(url: str, token: str, services: list[str], data_dir: str) -> None:
    senders = {
        service: logfire.configure(
            local=True,  # one SDK instance per service, each with its own resource
            token=token,
            send_to_logfire=True,
            console=False,
            service_name=service,
            advanced=logfire.AdvancedOptions(base_url=url),
            data_dir=data_dir,
            inspect_arguments=False,
            metrics=False,
        )
        for service in services
    }
    beat = 0
    while True:
        for service, sender in senders.items():
            sender.error("e2e live error {beat} in {service}", beat=beat, service=service)
            sender.info("e2e live request {beat} in {service}", beat=beat, service=service)
            sender.force_flush()
        print(f"beat {beat}: 2 logs for each of {len(senders)} services", flush=True)
        beat += 1
        time.sleep(INTERVAL)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4])
