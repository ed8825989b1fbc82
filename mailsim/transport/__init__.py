"""Thin transports: asyncio TCP servers for real clients (the console drives engines directly)."""
