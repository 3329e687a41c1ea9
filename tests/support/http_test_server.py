#!/usr/bin/env python3
"""A loopback HTTP server for framepipe's network tests.

    http_test_server.py --root DIR --port-file FILE --log FILE [--delay-ms N] [--post-delay-ms N]
                        [--tls-cert PEM]

Listens on 127.0.0.1 (https with --tls-cert, a PEM holding certificate and key), on a port the
system picks; writes that port to --port-file once it
accepts connections. Every request is logged to --log as one JSON line (method, path,
Idempotency-Key, status, and a POST's events), so tests check what the server really saw.

GET  /files/NAME   NAME from --root (a query string is ignored), with Range requests (libav seeks in MP4 files), after
                   --delay-ms
GET  /drop/NAME    NAME, but the connection closes at 40% of the file whatever the Range asked
GET  /stall/NAME   accepts the request and never answers
GET  anything else 404
POST /events       a JSON array of events: waits --post-delay-ms, answers 200
POST /flaky        500 to the first attempt of each Idempotency-Key, then as /events
POST /fail         always 500
"""
import argparse
import json
import os
import re
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

args = None
log_lock = threading.Lock()
seen_keys = set()


def log(entry):
    with log_lock, open(args.log, "a", encoding="utf-8") as out:
        out.write(json.dumps(entry) + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_):
        pass

    def answer(self, status, body=b"", headers=None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        match = re.fullmatch(r"/(files|drop|stall)/([^/?]+)", self.path.split("?")[0])
        path = os.path.join(args.root, match.group(2)) if match else None
        if not path or not os.path.isfile(path):
            log({"method": "GET", "path": self.path, "status": 404})
            self.answer(404, b"not found\n")
            return
        kind = match.group(1)
        log({"method": "GET", "path": self.path, "status": 0 if kind == "stall" else 200,
             "range": self.headers.get("Range")})
        if kind == "stall":
            time.sleep(120)
            self.close_connection = True
            return
        time.sleep(args.delay_ms / 1000)
        with open(path, "rb") as f:
            data = f.read()
        start, end = 0, len(data) - 1
        ranged = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
        if ranged:
            start = int(ranged.group(1))
            if ranged.group(2):
                end = min(end, int(ranged.group(2)))
        if start > end:
            self.answer(416, headers={"Content-Range": f"bytes */{len(data)}"})
            return
        self.send_response(206 if ranged else 200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Accept-Ranges", "bytes")
        if ranged:
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        if kind == "drop":
            cut = len(data) * 4 // 10
            self.wfile.write(data[start:max(start, min(cut, end + 1))])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data[start:end + 1])

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        key = self.headers.get("Idempotency-Key")
        entry = {"method": "POST", "path": self.path, "key": key}
        if self.path == "/fail":
            status = 500
        elif self.path == "/flaky" and key not in seen_keys:
            seen_keys.add(key)
            status = 500
        elif self.path in ("/events", "/flaky"):
            time.sleep(args.post_delay_ms / 1000)
            status = 200
            entry["events"] = json.loads(body)
        else:
            status = 404
        entry["status"] = status
        log(entry)
        self.answer(status, b'{"ok": true}\n' if status == 200 else b"server error\n",
                    {"Content-Type": "application/json"})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def main():
    global args
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default=".")
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--delay-ms", type=int, default=0)
    parser.add_argument("--post-delay-ms", type=int, default=0)
    parser.add_argument("--tls-cert", help="PEM with the certificate and its key: serve https")
    args = parser.parse_args()
    server = Server(("127.0.0.1", 0), Handler)
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    partial = args.port_file + ".partial"
    with open(partial, "w", encoding="utf-8") as out:
        out.write(str(server.server_address[1]))
    os.rename(partial, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
