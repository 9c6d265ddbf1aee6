"""MLLP framing over python-hl7's asyncio streams: one request, one answer, with a timeout.

A message goes out as <VT>message<FS><CR> (hl7.mllp's writeblock) and the peer's answer is
read back as one block. Text is UTF-8 (MSH-18 "UNICODE UTF-8"); a block that is
not valid UTF-8 is read as Latin-1 rather than refused, so nothing is lost in decoding.
"""

from __future__ import annotations

import asyncio

from hl7.mllp import open_hl7_connection

from api.integration.hl7 import fields

# A message (or an answer) may be larger than asyncio's 64 KiB default line limit.
BLOCK_LIMIT = 4 * 1024 * 1024


START, END = b"\x0b", b"\x1c\r"


async def read_block(reader) -> bytes | None:
    """The next block's content; None at the end of the stream. Bytes before <VT> (a stray
    newline between blocks) are skipped rather than taken as an invalid block."""
    while True:
        try:
            data = await reader.readuntil(END)
        except asyncio.IncompleteReadError:
            return None
        start = data.find(START)
        if start >= 0:
            return data[start + 1:-len(END)]


def decode(block: bytes) -> str:
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError:
        return block.decode("latin-1")


def encode(message: str) -> bytes:
    return fields.normalise(message).encode("utf-8") + b"\r"


class Connection:
    """A client connection to an MLLP listener, sending one message at a time."""

    def __init__(self, host: str, port: int, timeout: float):
        self.host, self.port, self.timeout = host, port, timeout
        self._reader = self._writer = None

    async def __aenter__(self) -> Connection:
        self._reader, self._writer = await asyncio.wait_for(
            open_hl7_connection(self.host, self.port, limit=BLOCK_LIMIT), self.timeout)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except (ConnectionError, OSError):
                pass
            self._writer = None

    async def exchange(self, message: str) -> str:
        """Send one message and wait (up to the timeout) for the answer's text."""
        self._writer.writeblock(encode(message))
        await asyncio.wait_for(self._writer.drain(), self.timeout)
        block = await asyncio.wait_for(read_block(self._reader), self.timeout)
        if block is None:
            raise ConnectionError("the peer closed the connection without answering")
        return decode(block)


async def exchange_once(*, host: str, port: int, message: str, timeout: float) -> str:
    """Connect, send one message, read its answer, close."""
    async with Connection(host, port, timeout) as connection:
        return await connection.exchange(message)


async def send_all(*, host: str, port: int, messages: list[str], timeout: float,
                   attempts: int = 30) -> list[str]:
    """Send messages in order on one connection, each after the previous one's answer; a lost
    connection or an unanswered message reconnects and resends that message (the listener
    recognises a resend by its control id), with a growing pause, up to `attempts` times."""
    answers: list[str] = []
    connection: Connection | None = None
    try:
        for message in messages:
            for attempt in range(attempts):
                try:
                    if connection is None:
                        connection = await Connection(host, port, timeout).__aenter__()
                    answers.append(await connection.exchange(message))
                    break
                except (OSError, TimeoutError, asyncio.IncompleteReadError):
                    if connection is not None:
                        await connection.close()
                        connection = None
                    await asyncio.sleep(min(0.05 * 2 ** attempt, 2.0))
            else:
                raise ConnectionError(f"no answer from {host}:{port} after {attempts} attempts")
    finally:
        if connection is not None:
            await connection.close()
    return answers
