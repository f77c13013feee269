"""Run moto's server with DynamoDB requests serialised: ``python -m stocktool.aws.emulator_server -p 4566``.

moto's DynamoDB backend is not thread-safe: under concurrent requests its UpdateItem ``ADD`` and
``list_append`` lose updates (seen: 794 of 800 concurrent increments), while real DynamoDB makes every
single-item write atomic. One lock around DynamoDB calls restores that guarantee; other services keep
running concurrently, so SQS long polls never block the rest.
"""

import argparse
import os
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


class SerialDynamoDB:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with self.lock:
                # Materialise the response inside the lock: moto computes it lazily in some paths.
                return list(self.app(environ, start_response))
        return self.app(environ, start_response)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=4566)
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, SerialDynamoDB(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
