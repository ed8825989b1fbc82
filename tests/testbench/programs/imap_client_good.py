"""A student's IMAP client written with Python's imaplib: log in, open the INBOX,
read the first message's headers, log out.

    python imap_client_good.py HOST PORT
"""

import imaplib
import sys

client = imaplib.IMAP4(sys.argv[1], int(sys.argv[2]), timeout=10)
client.login("alice", "wonderland")
typ, data = client.select("INBOX")
print("messages:", data[0].decode())
typ, data = client.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
print(data[0][1].decode().strip())
client.logout()
