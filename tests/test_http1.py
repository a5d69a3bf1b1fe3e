"""The push sender's HTTP/1.1 client against a server that answers exactly the bytes a test scripts:
the shapes of answer real push services and proxies send, and the broken ones."""
from __future__ import annotations

import asyncio

import pytest

from coach.services.delivery.http1 import Client


async def _serve(answers: list[bytes]):
    """A server that reads each request (head + Content-Length body) and writes the next answer;
    an answer ending in b"<close>" is written and the connection closed."""
    state = {"connections": 0, "requests": []}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state["connections"] += 1
        try:
            while answers:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                                   if line.lower().startswith(b"content-length")))
                state["requests"].append(head + await reader.readexactly(length))
                answer = answers.pop(0)
                writer.write(answer.removesuffix(b"<close>"))
                await writer.drain()
                if answer.endswith(b"<close>"):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", state


def _run(answers: list[bytes], posts: int):
    async def scenario():
        server, base, state = await _serve(answers)
        client = Client(timeout=5)
        results = []
        try:
            for i in range(posts):
                try:
                    results.append(await client.post(f"{base}/push/abc?x={i}", {"TTL": "60"}, b"body",
                                                     ("retry-after", "location")))
                except (ConnectionError, TimeoutError) as error:
                    results.append(error)
        finally:
            client.close()
            server.close()
        return results, state

    return asyncio.run(scenario())


def test_kept_alive_connection_carries_plain_and_chunked_answers():
    (first, second), state = _run([
        b"HTTP/1.1 201 Created\r\nLocation: https://push.example/m/1\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 30\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nslow \r\n7;x=y\r\ndown pl\r\n5\r\nease.\r\n0\r\n\r\n",
    ], 2)
    assert (first.status, first.headers) == (201, {"location": "https://push.example/m/1"})
    assert (second.status, second.headers, second.body) == (429, {"retry-after": "30"}, b"slow down please.")
    assert state["connections"] == 1  # the same connection twice
    request = state["requests"][0]
    assert request.startswith(b"POST /push/abc?x=0 HTTP/1.1\r\nHost: 127.0.0.1:")
    assert b"\r\nTTL: 60\r\n" in request and request.endswith(b"\r\n\r\nbody")


def test_connection_close_and_an_answer_that_runs_until_close():
    (first, second, third), state = _run([
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok<close>",
        b"HTTP/1.0 410 Gone\r\n\r\nthis subscription has expired<close>",
        b"HTTP/1.1 204 No Content\r\n\r\n",
    ], 3)
    assert (first.status, first.body) == (201, b"ok")
    assert (second.status, second.body) == (410, b"this subscription has expired")
    assert third.status == 204
    assert state["connections"] == 3  # each close was honoured: a new connection next time


@pytest.mark.parametrize("answer", [
    b"SSH-2.0-OpenSSH_9.6\r\n\r\n<close>",  # not HTTP at all
    b"HTTP/1.1 201 Created\r\nContent-Length: 10\r\n\r\nshort<close>",  # cut short
    b"<close>",  # closed without a word
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n<close>",  # a bad chunk size
])
def test_a_broken_answer_is_a_connection_error_the_sender_retries(answer):
    (result,), _state = _run([answer], 1)
    assert isinstance(result, ConnectionError)


def test_an_endpoint_or_header_that_could_split_the_request_is_refused():
    async def scenario():
        client = Client(timeout=1)
        with pytest.raises(ValueError):
            await client.post("http://127.0.0.1:9/push/a b", {}, b"")
        with pytest.raises(ValueError):
            await client.post("http://127.0.0.1:9/push/a", {"Topic": "x\r\nEvil: 1"}, b"")

    asyncio.run(scenario())
