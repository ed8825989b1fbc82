"""A student's SMTP client that forgets the line with the final dot after DATA:
it sends the text and waits for a reply that cannot come.

    python smtp_client_no_dot.py HOST PORT
"""

import socket
import sys

HOST, PORT = sys.argv[1], int(sys.argv[2])

with socket.create_connection((HOST, PORT), timeout=30) as sock:
    print(sock.recv(1024).decode(), end="")
    for line in ("HELO student.example", "MAIL FROM:<alice@mailsim.test>", "RCPT TO:<bob@mailsim.test>", "DATA"):
        sock.sendall((line + "\r\n").encode())
        print(sock.recv(1024).decode(), end="")
    sock.sendall(b"Subject: Hola\r\n\r\nHola Bob.\r\n")  # ...and no "." line
    print(sock.recv(1024).decode(), end="")  # waits until the server gives up
