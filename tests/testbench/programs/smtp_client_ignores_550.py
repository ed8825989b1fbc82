"""A student's SMTP client that does not look at the reply codes: the recipient does
not exist (550), and it sends DATA and the message anyway.

    python smtp_client_ignores_550.py HOST PORT
"""

import socket
import sys

HOST, PORT = sys.argv[1], int(sys.argv[2])

with socket.create_connection((HOST, PORT), timeout=30) as sock:
    print(sock.recv(1024).decode(), end="")
    for line in ("HELO student.example", "MAIL FROM:<alice@mailsim.test>", "RCPT TO:<nobody@mailsim.test>", "DATA"):
        sock.sendall((line + "\r\n").encode())
        print(sock.recv(1024).decode(), end="")
    sock.sendall(b"Subject: Hola\r\n\r\nHola.\r\n.\r\n")
    sock.sendall(b"QUIT\r\n")
    while data := sock.recv(1024):
        print(data.decode(), end="")
