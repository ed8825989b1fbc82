"""The client-side pieces a TCP client transport reuses (`tls.client_context`,
`tls_tcp.upgrade_client`, `tls.params_of`): an asyncio client that says EHLO, STARTTLS,
upgrades, and greets again over TLS."""

from __future__ import annotations

import asyncio

import pytest

from mailsim.transport.tls import client_context, params_of
from mailsim.transport.tls_tcp import upgrade_client

pytestmark = pytest.mark.network


class Lines(asyncio.Protocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\r\n", 1)
            self.queue.put_nowait(line)

    async def reply(self) -> list[bytes]:
        lines = [await asyncio.wait_for(self.queue.get(), 10)]
        while lines[-1][3:4] == b"-":
            lines.append(await asyncio.wait_for(self.queue.get(), 10))
        return lines


def test_an_asyncio_client_upgrades_with_starttls(tls_servers, material):
    async def client() -> tuple[list[bytes], str]:
        loop = asyncio.get_running_loop()
        transport, lines = await loop.create_connection(Lines, "127.0.0.1", tls_servers.smtp)
        await lines.reply()
        transport.write(b"EHLO client.example\r\n")
        assert b"250-STARTTLS" in await lines.reply()
        transport.write(b"STARTTLS\r\n")
        assert (await lines.reply())[0].startswith(b"220 2.0.0")
        secure = await upgrade_client(transport, lines, client_context(material.ca_file), "localhost")
        secure.write(b"EHLO client.example\r\n")
        after = await lines.reply()
        version = params_of(secure.get_extra_info("ssl_object"), None).version
        secure.write(b"QUIT\r\n")
        await lines.reply()
        secure.close()
        return after, version

    after, version = asyncio.run(client())
    assert b"250-STARTTLS" not in after and b"250-AUTH PLAIN LOGIN CRAM-MD5" in after
    assert version.startswith("TLSv1.")
