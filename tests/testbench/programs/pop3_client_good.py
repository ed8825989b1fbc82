"""A student's POP3 client: log in as alice, list, read message 1, delete message 2.

    python pop3_client_good.py HOST PORT
"""

import socket
import sys

HOST, PORT = sys.argv[1], int(sys.argv[2])


def line(f):
    text = f.readline().decode()
    print("S:", text.rstrip())
    return text


def multiline(f):
    while (text := f.readline()) not in (b".\r\n", b""):
        pass


with socket.create_connection((HOST, PORT), timeout=10) as sock:
    f = sock.makefile("rb")
    assert line(f).startswith("+OK")
    for command, more in (("USER alice", False), ("PASS wonderland", False), ("STAT", False), ("LIST", True),
                          ("RETR 1", True), ("DELE 2", False), ("QUIT", False)):
        sock.sendall((command + "\r\n").encode())
        if not line(f).startswith("+OK"):
            sys.exit(f"{command} failed")
        if more:
            multiline(f)
