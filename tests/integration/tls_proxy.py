"""The small reverse proxy in front of gunicorn on the rehearsal's web host (issue 26): it does
what the README's nginx lines do, and nothing else. It terminates TLS (a certificate made for
the run), passes the request to gunicorn at the upstream address with the reader's Host and
three headers added, and streams the answer back:

    X-Forwarded-For    the reader's address appended (nginx: $proxy_add_x_forwarded_for)
    X-Forwarded-Proto  https (nginx: $scheme), so Django knows the request was secure
    X-Request-ID       a fresh id per request (nginx: $request_id), in every log line

One request per connection on both sides (`Connection: close`): small, and enough for a
reader's page views and signups.

    python -m tests.integration.tls_proxy --listen 198.18.26.3:443 --upstream 127.0.0.1:8000 \
        --cert cert.pem --key key.pem
"""

from __future__ import annotations

import argparse
import asyncio
import ssl
import uuid

HOP_BY_HOP = {b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer", b"upgrade"}
ADDED = {b"x-forwarded-for", b"x-forwarded-proto", b"x-request-id"}


def rewrite_head(head: bytes, *, client: str) -> tuple[bytes, int]:
    """The request line and headers as the upstream gets them, and the body's length."""
    lines = head.split(b"\r\n")
    forwarded = b""
    kept = [lines[0]]
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key == b"x-forwarded-for":
            forwarded = value.strip() + b", "
        if key in HOP_BY_HOP or key in ADDED:
            continue
        if key == b"content-length":
            length = int(value.strip())
        kept.append(line)
    kept += [
        b"X-Forwarded-For: " + forwarded + client.encode(),
        b"X-Forwarded-Proto: https",
        b"X-Request-ID: " + uuid.uuid4().hex.encode(),
        b"Connection: close",
    ]
    return b"\r\n".join(kept) + b"\r\n\r\n", length


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, upstream: tuple[str, int]) -> None:
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=30)
        client = writer.get_extra_info("peername")[0]
        request, length = rewrite_head(head[:-4], client=client)
        body = await reader.readexactly(length) if length else b""
        up_reader, up_writer = await asyncio.open_connection(*upstream)
        up_writer.write(request + body)
        await up_writer.drain()
        while chunk := await up_reader.read(65536):
            writer.write(chunk)
            await writer.drain()
        up_writer.close()
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
        pass  # the reader went away, or gunicorn did not answer: the reader sees the connection close
    finally:
        writer.close()


async def serve(listen: tuple[str, int], upstream: tuple[str, int], context: ssl.SSLContext) -> None:
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, upstream), listen[0], listen[1], ssl=context, backlog=512
    )
    async with server:
        await server.serve_forever()


def address(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return host, int(port)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", type=address, required=True)
    parser.add_argument("--upstream", type=address, required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    args = parser.parse_args()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    asyncio.run(serve(args.listen, args.upstream, context))


if __name__ == "__main__":
    main()
