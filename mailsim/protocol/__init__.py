"""Sans-IO protocol engines: bytes in, bytes and events out. No sockets, no asyncio."""
