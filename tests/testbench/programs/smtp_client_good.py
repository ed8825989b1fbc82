"""A student's SMTP client, written with raw sockets as the classic assignment asks:
send one message from alice to bob with a Subject and a PDF attached.

    python smtp_client_good.py HOST PORT [--lf]

--lf ends lines with a bare LF instead of CRLF (a common mistake).
"""

import base64
import socket
import sys
from email.utils import formatdate, make_msgid

HOST, PORT = sys.argv[1], int(sys.argv[2])
EOL = "\n" if "--lf" in sys.argv else "\r\n"


def reply(sock_file):
    """Read one SMTP reply: lines "250-..." continue, "250 ..." ends it."""
    while True:
        line = sock_file.readline().decode()
        print("S:", line.rstrip())
        if len(line) < 4 or line[3] != "-":
            return int(line[:3])


def command(sock, sock_file, text, expected):
    print("C:", text)
    sock.sendall((text + EOL).encode())
    code = reply(sock_file)
    if code != expected:
        sock.sendall(("QUIT" + EOL).encode())
        sys.exit(f"unexpected reply {code} to {text!r}")


pdf = base64.encodebytes(b"%PDF-1.4\n% a tiny report\n").decode().replace("\n", EOL)
message = EOL.join([
    "From: Alice <alice@mailsim.test>",
    "To: Bob <bob@mailsim.test>",
    "Subject: Informe semanal",
    "Date: " + formatdate(localtime=True),
    "Message-ID: " + make_msgid(domain="student.example"),
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="sep"',
    "",
    "--sep",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "Hola Bob, te adjunto el informe.",
    "..this line starts with a dot, so it is sent with two (dot-stuffing)",
    "--sep",
    'Content-Type: application/pdf; name="informe.pdf"',
    'Content-Disposition: attachment; filename="informe.pdf"',
    "Content-Transfer-Encoding: base64",
    "",
    pdf.rstrip(EOL),
    "--sep--",
    "",
])

with socket.create_connection((HOST, PORT), timeout=10) as sock:
    sock_file = sock.makefile("rb")
    if reply(sock_file) != 220:
        sys.exit("no greeting")
    command(sock, sock_file, "EHLO student.example", 250)
    command(sock, sock_file, "MAIL FROM:<alice@mailsim.test>", 250)
    command(sock, sock_file, "RCPT TO:<bob@mailsim.test>", 250)
    command(sock, sock_file, "DATA", 354)
    sock.sendall((message + "." + EOL).encode())
    if reply(sock_file) != 250:
        sys.exit("message refused")
    command(sock, sock_file, "QUIT", 221)
