"""The peer of the fleet benchmark: a central system a Python user might build instead of shocpp.

One asyncio process with the `ocpp` package's ChargePoint per connection, served by
`websockets`, as the package documents it (its defaults: payloads and answers checked
against the OCPP 1.6 schemas, in a thread pool). It answers the charger's messages
correctly: BootNotification Accepted with the time and an interval, Authorize and
StartTransaction by the benchmark's tags, a fresh transactionId per StartTransaction.
It keeps nothing: no ledger, no log of frames, no status files.

    python -m bench.peer --port 9000
"""

import argparse
import asyncio
import itertools
import sys
from datetime import datetime, timezone

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.datatypes import IdTagInfo
from ocpp.v16.enums import Action, AuthorizationStatus, RegistrationStatus
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

from .common import TAGS

KNOWN_TAGS = {tag.upper() for account in TAGS for tag in account["ids"]}
HEARTBEAT_INTERVAL = 300
transaction_ids = itertools.count(1)


def now():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def tag_info(id_tag):
    known = id_tag is not None and id_tag.upper() in KNOWN_TAGS
    return IdTagInfo(status=AuthorizationStatus.accepted if known else AuthorizationStatus.invalid)


class Peer(ChargePoint):
    @on(Action.boot_notification)
    def on_boot_notification(self, charge_point_vendor, charge_point_model, **_):
        return call_result.BootNotification(current_time=now(), interval=HEARTBEAT_INTERVAL,
                                            status=RegistrationStatus.accepted)

    @on(Action.heartbeat)
    def on_heartbeat(self, **_):
        return call_result.Heartbeat(current_time=now())

    @on(Action.status_notification)
    def on_status_notification(self, connector_id, error_code, status, **_):
        return call_result.StatusNotification()

    @on(Action.meter_values)
    def on_meter_values(self, connector_id, meter_value, **_):
        return call_result.MeterValues()

    @on(Action.authorize)
    def on_authorize(self, id_tag, **_):
        return call_result.Authorize(id_tag_info=tag_info(id_tag))

    @on(Action.start_transaction)
    def on_start_transaction(self, connector_id, id_tag, meter_start, timestamp, **_):
        return call_result.StartTransaction(transaction_id=next(transaction_ids), id_tag_info=tag_info(id_tag))

    @on(Action.stop_transaction)
    def on_stop_transaction(self, transaction_id, meter_stop, timestamp, id_tag=None, **_):
        return call_result.StopTransaction(id_tag_info=tag_info(id_tag) if id_tag is not None else None)


async def handle(connection):
    if connection.subprotocol != "ocpp1.6":
        await connection.close(1002, "subprotocol ocpp1.6 required")
        return
    charger = Peer(connection.request.path.rstrip("/").rsplit("/", 1)[-1] or "default", connection)
    try:
        await charger.start()
    except ConnectionClosed:
        pass


async def serve_forever(address, port):
    async with serve(handle, address, port, subprotocols=["ocpp1.6"]) as server:
        await server.serve_forever()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.peer", description=__doc__.split("\n\n")[0])
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve_forever(args.address, args.port))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
