"""A student's SMTP server that answers 250 to everything after its greeting: it
looks fine to a client that sends only correct commands.

    python smtp_server_yes.py [PORT]     (0 or nothing: any free port, printed)
"""

import socketserver
import sys


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(b"220 yes.example ready\r\n")
        while self.rfile.readline():
            self.wfile.write(b"250 OK\r\n")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


with Server(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler) as server:
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()
