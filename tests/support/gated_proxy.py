"""An HTTP proxy in front of a real server that holds requests until its gate opens.

It lets a test keep a sync inside its first MLflow request for as long as it needs,
so a second sync provably overlaps the first, without any sleep-based timing.
"""

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# Headers that describe one hop, not the message; http.client sets its own.
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


class GatedProxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: str, hold_timeout: float = 30.0) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.hold_timeout = hold_timeout
        self.gate = threading.Event()
        self.arrived = threading.Event()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> "GatedProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.gate.set()
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: GatedProxy

    def _forward(self) -> None:
        self.server.arrived.set()
        self.server.gate.wait(self.server.hold_timeout)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
        upstream = http.client.HTTPConnection(
            self.server.upstream_host, self.server.upstream_port, timeout=60
        )
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            payload = response.read()
        finally:
            upstream.close()
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in _HOP_HEADERS:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _forward
    do_POST = _forward
    do_PATCH = _forward
    do_DELETE = _forward

    def log_message(self, format: str, *args: object) -> None:
        pass
