"""moto server with one request at a time, as DynamoDB's per-item atomicity requires.

DynamoDB applies each conditional write and each counter update atomically. moto's threaded
server handles requests on many threads with no lock around its in-memory tables, so two
racing `UpdateItem ADD` calls can both read the old value. sitrep's tests race conditional
writes on purpose, so this launcher runs the same moto application (`moto_server`'s own
code path) behind one lock: requests still arrive concurrently, and each is answered whole
before the next one is applied.

Usage: moto-server.py HOST PORT
"""

import os
import signal
import sys
import threading

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    application = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def one_at_a_time(environ, start_response):
        with lock:
            # Materialise the body inside the lock: the answer reflects exactly one state.
            return list(application(environ, start_response))

    run_simple(host, port, one_at_a_time, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
