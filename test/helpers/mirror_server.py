#!/usr/bin/python3
# Test-only servers for the sandbox's network namespace (test/helpers/sandbox.ts): an apt mirror
# (static files) and a forward HTTP proxy, each logging every request it serves to a file.
#   mirror_server.py serve DIR ADDRESS PORT LOG
#   mirror_server.py proxy ADDRESS PORT LOG
import http.server
import shutil
import sys
import urllib.error
import urllib.request

mode, *args = sys.argv[1:]


def logger(path):
    def log(line):
        with open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
    return log


if mode == "serve":
    root, address, port, log = args[0], args[1], int(args[2]), logger(args[3])

    class Mirror(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=root, **kw)

        def log_request(self, code="-", size="-"):
            log(f"{self.command} {self.path} {code}")

        def log_message(self, *a):
            pass

    http.server.ThreadingHTTPServer((address, port), Mirror).serve_forever()
elif mode == "proxy":
    address, port, log = args[0], int(args[1]), logger(args[2])
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    class Proxy(http.server.BaseHTTPRequestHandler):
        # A forward proxy gets absolute URLs ("GET http://host/path"); anything else is refused.
        def relay(self, head):
            if not self.path.startswith("http://"):
                log(f"{self.command} {self.path} 400")
                self.send_error(400, "absolute http:// URL expected")
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "connection", "host")}
            try:
                upstream = direct.open(urllib.request.Request(self.path, headers=headers, method=self.command), timeout=10)
                code, body, reply = upstream.status, upstream, upstream.headers
            except urllib.error.HTTPError as e:
                code, body, reply = e.code, e, e.headers
            except OSError as e:
                log(f"{self.command} {self.path} 502")
                self.send_error(502, str(e))
                return
            log(f"{self.command} {self.path} {code}")
            self.send_response(code)
            for k, v in reply.items():
                if k.lower() not in ("connection", "transfer-encoding"):
                    self.send_header(k, v)
            self.send_header("Connection", "close")
            self.end_headers()
            if not head:
                shutil.copyfileobj(body, self.wfile)

        def do_GET(self):
            self.relay(False)

        def do_HEAD(self):
            self.relay(True)

        def log_message(self, *a):
            pass

    http.server.ThreadingHTTPServer((address, port), Proxy).serve_forever()
else:
    sys.exit(f"unknown mode {mode}")
