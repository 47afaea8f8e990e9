"""Runs moto's S3 server with atomic writes, as S3's are.

moto 5.2.5 checks `If-Match` / `If-None-Match` and then stores the object
in two steps, and its server is threaded: two conditional PUTs racing on
one key can both pass the check (a lost update real S3 never allows; the
64-writer test catches it). This launcher serves the same moto application
but lets one mutating request (PUT, POST, DELETE) run at a time; reads stay
concurrent. Usage: python moto_atomic.py HOST PORT
"""

import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

WRITES = {"PUT", "POST", "DELETE"}


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    moto = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def app(environ, start_response):
        if environ.get("REQUEST_METHOD") in WRITES:
            with lock:
                # Drain the response inside the lock: the write is done.
                return list(moto(environ, start_response))
        return moto(environ, start_response)

    run_simple(host, port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
