"""A student's POP3 server whose LIST counts message sizes with LF line ends while
RETR sends CRLF (the sizes are short by one octet per line).

    python pop3_server_lf_sizes.py [PORT]     (0 or nothing: any free port, printed)
"""

import socketserver
import sys

MESSAGES = [
    "Subject: one\n\nFirst message.\n",
    "Subject: two\n\nSecond message,\n.a line that starts with a dot.\n",
]


class Handler(socketserver.StreamRequestHandler):
    def reply(self, text):
        self.wfile.write((text + "\r\n").encode())

    def handle(self):
        self.reply("+OK toy POP3 ready")
        logged_in = False
        while line := self.rfile.readline():
            verb, _, argument = line.decode().strip().partition(" ")
            verb = verb.upper()
            if verb in ("USER", "PASS") and not logged_in:
                logged_in = verb == "PASS"
                self.reply("+OK")
            elif verb == "QUIT":
                self.reply("+OK bye")
                return
            elif not logged_in:
                self.reply("-ERR log in first")
            elif verb == "STAT":
                self.reply(f"+OK {len(MESSAGES)} {sum(len(m) for m in MESSAGES)}")
            elif verb == "LIST":
                self.reply(f"+OK {len(MESSAGES)} messages")
                for number, message in enumerate(MESSAGES, start=1):
                    self.reply(f"{number} {len(message)}")  # the bug: LF octets, not CRLF
                self.reply(".")
            elif verb == "RETR" and argument.isdigit() and 1 <= int(argument) <= len(MESSAGES):
                self.reply("+OK")
                for text in MESSAGES[int(argument) - 1].splitlines():
                    self.reply("." + text if text.startswith(".") else text)
                self.reply(".")
            else:
                self.reply("-ERR")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


with Server(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler) as server:
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()
