"""moto server with one request at a time, as DynamoDB's per-item atomicity requires.

DynamoDB applies each conditional write and each counter update atomically. moto's threaded
server handles requests on many threads with no lock around its in-memory tables, so two
racing `UpdateItem ADD` calls can both read the old value. sitrep's tests race conditional
writes on purpose, so this launcher runs the same moto application (`moto_server`'s own
code path) behind one lock: requests still arrive concurrently, and each is answered whole
before the next one is applied.

It also answers one read-only route of its own, for tests of what moto keeps but has no
API for:

    GET /_sitrep/sms?region=us-east-1

returns the SMS messages published straight to phone numbers in that region (default
us-east-1) for moto's default account, oldest first, as a JSON list of
{"message_id", "phone_number", "message"} objects. Real SNS hands them to carriers; moto
records them in its SNS backend (`sms_messages`).

Usage: moto-server.py HOST PORT
"""

import json
import os
import re
import signal
import sys
import threading
from urllib.parse import parse_qs

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


SMS_ROUTE = "/_sitrep/sms"
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


def recorded_sms(environ, start_response):
    """The SMS moto recorded in one region, as JSON (see the module's docstring)."""
    # Imported on first use, so a server that is never asked starts as fast as before.
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    def answer(status, body):
        payload = json.dumps(body).encode()
        start_response(
            status,
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    if environ.get("REQUEST_METHOD") != "GET":
        return answer("405 Method Not Allowed", {"error": f"{SMS_ROUTE} is read-only: use GET"})
    query = parse_qs(environ.get("QUERY_STRING", ""))
    region = query.get("region", ["us-east-1"])[0]
    if not REGION.match(region):
        return answer("400 Bad Request", {"error": f"not a region name: {region!r}"})
    backend = sns_backends[DEFAULT_ACCOUNT_ID][region]
    # Copied under the lock, so the list is one consistent state of the backend.
    messages = [
        {"message_id": message_id, "phone_number": phone_number, "message": message}
        for message_id, (phone_number, message) in list(backend.sms_messages.items())
    ]
    return answer("200 OK", messages)


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    application = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def one_at_a_time(environ, start_response):
        with lock:
            if environ.get("PATH_INFO") == SMS_ROUTE:
                return recorded_sms(environ, start_response)
            # Materialise the body inside the lock: the answer reflects exactly one state.
            return list(application(environ, start_response))

    run_simple(host, port, one_at_a_time, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
