"""A student's POP3 client that never checks +OK/-ERR: the password is wrong, and it
asks for messages anyway, then just closes (no QUIT).

    python pop3_client_wrong_password.py HOST PORT
"""

import socket
import sys

HOST, PORT = sys.argv[1], int(sys.argv[2])

with socket.create_connection((HOST, PORT), timeout=10) as sock:
    print(sock.recv(1024).decode(), end="")
    for command in ("USER alice", "PASS alice123", "STAT", "RETR 1"):
        sock.sendall((command + "\r\n").encode())
        print(sock.recv(1024).decode(), end="")
