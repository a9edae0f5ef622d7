"""A local S3-compatible server for the tests: moto's S3 on one port, and in front of it a
proxy that can misbehave, on another.

    python tests/s3/server.py --bucket lake [--bucket other]

prints one JSON line when ready: {"endpoint": "http://127.0.0.1:P", "proxy": "http://127.0.0.1:Q"}
and serves until stdin closes (so it dies with the test that started it).

The proxy forwards every request to moto. Its behaviour is set with a request to
`/__faults?mode=MODE&n=N` and its counters read at `/__stats`:

- `pass`: forward everything (the default);
- `throttle`: answer every N-th write (PUT, POST) with 503 SlowDown, as S3 does under load;
- `fail-after`: forward the first N writes, then answer every write with 500 InternalError;
- `deny`: answer everything with 403 AccessDenied.
"""
import argparse
import http.client
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import boto3
from moto.server import ThreadedMotoServer


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.mode, self.n = "pass", 0
        self.writes = self.injected = self.multipart_uploads = self.forwarded = 0

    def decide(self, method: str, path: str):
        """The (status, code) to answer instead of forwarding, or None."""
        with self.lock:
            is_write = method in ("PUT", "POST")
            if method == "POST" and "uploads" in path and "uploadId" not in path:
                self.multipart_uploads += 1
            if self.mode == "deny":
                self.injected += 1
                return 403, "AccessDenied"
            if not is_write:
                return None
            self.writes += 1
            if self.mode == "throttle" and self.n and self.writes % self.n == 0:
                self.injected += 1
                return 503, "SlowDown"
            if self.mode == "fail-after" and self.writes > self.n:
                self.injected += 1
                return 500, "InternalError"
            return None


def make_proxy(target_port: int, faults: Faults):
    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, status, body, content_type="application/xml"):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            url = urlparse(self.path)
            if url.path == "/__faults":
                q = parse_qs(url.query)
                with faults.lock:
                    faults.mode = q.get("mode", ["pass"])[0]
                    faults.n = int(q.get("n", ["0"])[0])
                    faults.writes = 0
                return self.reply(200, b"{}", "application/json")
            if url.path == "/__stats":
                with faults.lock:
                    stats = {k: getattr(faults, k) for k in
                             ("mode", "n", "writes", "injected", "multipart_uploads", "forwarded")}
                return self.reply(200, json.dumps(stats).encode(), "application/json")
            decided = faults.decide(self.command, self.path)
            if decided:
                status, code = decided
                xml = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code>"
                       f"<Message>injected by the test proxy</Message></Error>").encode()
                return self.reply(status, xml)
            conn = http.client.HTTPConnection("127.0.0.1", target_port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            with faults.lock:
                faults.forwarded += 1
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            conn.close()

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

    return Proxy


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bucket", action="append", default=[])
    a = p.parse_args()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test")
    for bucket in a.bucket:
        s3.create_bucket(Bucket=bucket)
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), make_proxy(port, Faults()))
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    print(json.dumps({"endpoint": endpoint, "proxy": f"http://127.0.0.1:{proxy.server_port}"}),
          flush=True)
    sys.stdin.read()  # until the test closes our stdin (or dies)
    proxy.shutdown()
    moto.stop()


if __name__ == "__main__":
    main()
