"""A student's minimal SMTP server (RFC 5321 §4.5.1's minimum: HELO, MAIL, RCPT,
DATA, RSET, NOOP, QUIT), with the order between them and the error replies.

    python smtp_server_good.py [PORT] [--dot-bug]    (0 or nothing: any free port, printed)

--dot-bug ends the message at any line that starts with a dot (a classic mistake:
forgetting that ".." is a stuffed dot, not the end). --lf ends reply lines with a bare
LF, another classic.
"""

import socketserver
import sys

DOT_BUG = "--dot-bug" in sys.argv
EOL = "\n" if "--lf" in sys.argv else "\r\n"


class Handler(socketserver.StreamRequestHandler):
    def reply(self, text):
        self.wfile.write((text + EOL).encode())

    def handle(self):
        self.reply("220 toy.example Simple Mail Transfer Service Ready")
        greeted, sender, recipients = False, None, []
        while line := self.rfile.readline():
            command = line.decode(errors="replace").rstrip("\r\n")
            verb, _, argument = command.partition(" ")
            verb = verb.upper()
            if verb == "HELO":
                greeted, sender, recipients = True, None, []
                self.reply("250 toy.example")
            elif verb == "MAIL":
                if not greeted or sender is not None:
                    self.reply("503 Bad sequence of commands")
                elif not argument.upper().startswith("FROM:<") or not argument.endswith(">"):
                    self.reply("501 Syntax: MAIL FROM:<address>")
                else:
                    sender = argument[6:-1]
                    self.reply("250 OK")
            elif verb == "RCPT":
                if sender is None:
                    self.reply("503 Bad sequence of commands")
                elif not argument.upper().startswith("TO:<") or not argument.endswith(">"):
                    self.reply("501 Syntax: RCPT TO:<address>")
                else:
                    recipients.append(argument[4:-1])
                    self.reply("250 OK")
            elif verb == "DATA":
                if not recipients:
                    self.reply("503 Bad sequence of commands")
                    continue
                self.reply("354 Start mail input; end with <CRLF>.<CRLF>")
                text = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    if DOT_BUG and data.startswith(b"."):
                        break
                    text.append(data[1:] if data.startswith(b".") else data)
                sender, recipients = None, []
                self.reply("250 OK")
            elif verb == "RSET":
                sender, recipients = None, []
                self.reply("250 OK")
            elif verb == "NOOP":
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 toy.example Service closing transmission channel")
                return
            else:
                self.reply("500 Syntax error, command unrecognized")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


with Server(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 0), Handler) as server:
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()
