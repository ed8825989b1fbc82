"""Clients built on well-known libraries, as a student who uses them would write:
the testbench must find nothing wrong with them.

    python library_clients.py HOST PORT smtplib|aiosmtplib|poplib
"""

import asyncio
import poplib
import smtplib
import sys
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

host, port, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]

message = EmailMessage()
message["From"] = "alice@mailsim.test"
message["To"] = "bob@mailsim.test"
message["Subject"] = "Informe"
message["Date"] = formatdate(localtime=True)
message["Message-ID"] = make_msgid(domain="student.example")
message.set_content("Hola Bob.\n.una línea que empieza por punto\n")
message.add_attachment(b"%PDF-1.4\n", maintype="application", subtype="pdf", filename="informe.pdf")

if kind == "smtplib":
    with smtplib.SMTP(host, port, timeout=10) as client:
        client.send_message(message)
elif kind == "aiosmtplib":
    import aiosmtplib  # pipelines MAIL, RCPT and DATA when the server offers PIPELINING

    asyncio.run(aiosmtplib.send(message, hostname=host, port=port, timeout=10))
elif kind == "poplib":
    client = poplib.POP3(host, port, timeout=10)
    client.user("alice")
    client.pass_("wonderland")
    count, _ = client.stat()
    client.retr(1)
    client.dele(2)
    client.quit()
