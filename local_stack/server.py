"""`make dev`: the API on 127.0.0.1:$PORT over an embedded DynamoDB (moto), seeded, with the table
stream delivered to app.py's stream handler, as deployed. DYNAMODB_ENDPOINT_URL selects another
DynamoDB endpoint instead of starting the embedded one."""

from __future__ import annotations

import argparse
import os
import threading

from local_stack import environment


def _create_export_bucket(bucket: str, endpoint_url: str | None, region: str) -> None:
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})


def server_classes() -> tuple[type, type]:
    """chalice's local server, tuned for many keep-alive clients: headers and body go out in two
    writes, and with Nagle's algorithm the body then waits for the client's delayed ACK (~40 ms per
    response); and the default listen backlog of 5 drops connections under 20 clients."""
    from chalice.local import ChaliceRequestHandler, ThreadedHTTPServer

    class DevRequestHandler(ChaliceRequestHandler):
        disable_nagle_algorithm = True

    class DevHTTPServer(ThreadedHTTPServer):
        request_queue_size = 128

    return DevRequestHandler, DevHTTPServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--no-seed", action="store_true", help="start with an empty table")
    args = parser.parse_args()

    embedded = not os.environ.get("DYNAMODB_ENDPOINT_URL")
    environment.configure()
    if embedded:
        _start_embedded_dynamodb(os.environ["DYNAMODB_ENDPOINT_URL"])

    # Imported only now: settings and the pynamodb models read the environment at import.
    import boto3
    from chalice.config import Config
    from chalice.local import LocalDevServer

    from app import app
    from chalicelib.core.config import get_settings
    from chalicelib.core.table_schema import create_table
    from local_stack import gateway
    from local_stack.streams import StreamPoller
    from seeds.loader import load_all

    settings = get_settings()
    create_table(boto3.client("dynamodb", endpoint_url=settings.dynamodb_endpoint_url), settings.table_name)
    _create_export_bucket(settings.export_bucket, settings.s3_endpoint_url, settings.region)
    poller = StreamPoller(
        settings.table_name, app.handler_map["table_stream"], endpoint_url=settings.dynamodb_endpoint_url
    )
    stop = threading.Event()
    threading.Thread(target=poller.run, args=(stop,), name="stream-poller", daemon=True).start()
    if not args.no_seed:
        load_all()
    gateway.install()
    config = Config.create(chalice_stage="local", app_name="openmrcs", project_dir=os.getcwd())
    handler_cls, server_cls = server_classes()
    server = LocalDevServer(app, config, args.host, args.port, handler_cls=handler_cls, server_cls=server_cls)
    print(
        f"OpenMRCS API on http://{args.host}:{args.port}/api/v1 (docs: /api/v1/docs); "
        f"DynamoDB at {settings.dynamodb_endpoint_url}; outbox in {settings.outbox_path}",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()


def _start_embedded_dynamodb(endpoint_url: str) -> None:
    import logging

    from moto.server import ThreadedMotoServer

    from local_stack import moto_patches

    moto_patches.install()

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per DynamoDB call is noise
    port = int(endpoint_url.rsplit(":", 1)[1])
    ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False).start()


if __name__ == "__main__":
    main()
