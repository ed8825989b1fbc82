"""A student's POP3 client that deletes the messages older than a date, reading each
message's Date: header with TOP n 0.

    python pop3_client_cleanup.py HOST PORT [YYYY-MM-DD]     (default 2026-09-05)
"""

import socket
import sys
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

HOST, PORT = sys.argv[1], int(sys.argv[2])
CUTOFF = datetime.fromisoformat(sys.argv[3] if len(sys.argv) > 3 else "2026-09-05").replace(tzinfo=timezone.utc)

with socket.create_connection((HOST, PORT), timeout=10) as sock:
    f = sock.makefile("rb")

    def command(text, multiline=False):
        sock.sendall((text + "\r\n").encode())
        status = f.readline().decode()
        if not status.startswith("+OK"):
            sys.exit(f"{text}: {status}")
        lines = []
        while multiline and (line := f.readline()) != b".\r\n":
            lines.append(line[1:] if line.startswith(b".") else line)
        return status, lines

    f.readline()  # greeting
    command("USER alice")
    command("PASS wonderland")
    count = int(command("STAT")[0].split()[1])
    for number in range(1, count + 1):
        _, header = command(f"TOP {number} 0", multiline=True)
        date = next((l.decode()[5:].strip() for l in header if l.lower().startswith(b"date:")), "")
        if date and parsedate_to_datetime(date) < CUTOFF:
            command(f"DELE {number}")
    command("QUIT")
