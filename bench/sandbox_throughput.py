"""Throughput of the served sandbox: requests per second, p50/p99 latency, errors.

Run: ``python bench/sandbox_throughput.py [--requests N] [--connections C] [--threads T]``.

The server runs in its own process (``python -m reconciler.sandbox.command serve``, pacing and
faults off, a SQLite file) so that the load generator never competes with it for the GIL. The
load generator is one thread driving C keep-alive connections with non-blocking raw sockets and
a selector: each connection sends a request, waits for the complete answer, sends the next
(closed loop). That costs a few microseconds per request, so the figures measure the server.
The mix, per connection in turn: 60 % list a page of 10 rulesets, 25 % get one by external id,
15 % PUT one by external id (an upsert that rewrites 5 rules). The database is seeded with 200
rulesets of 5 rules first; the first 5 % of the requests are a warm-up and not counted.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from reconciler.sandbox import DEFAULT_TOKEN

P = "/price_rules/rules/v2/shops/sandbox-shop"
TOKEN = DEFAULT_TOKEN
SEEDED = 200


def ruleset_body(eid: str, value: int) -> dict[str, object]:
    rules = [
        {
            "external_id": f"rule-{n}",
            "type": "DISCOUNT",
            "conditions": [{"type": "CUSTOMER_GROUP", "value": f"group-{n}"}],
            "actions": [{"type": "PRICE_ADJUST_PERCENT", "value": -value - n}],
        }
        for n in range(5)
    ]
    return {
        "ruleset": {
            "external_id": eid,
            "public_name": f"Sale {eid}",
            "product_selection": {"type": "PRODUCT_SEARCH", "sku_ids": ["SKU-1", "SKU-2"]},
            "rules": rules,
        }
    }


def build_requests(host: str, count: int, rng: random.Random) -> list[bytes]:
    """The request mix, as raw HTTP/1.1 keep-alive requests."""
    head = f"Host: {host}\r\nAuthorization: Bearer {TOKEN}\r\nBold-API-Version-Date: 2022-10-14\r\n"
    out = []
    for _ in range(count):
        roll = rng.random()
        i = rng.randrange(SEEDED)
        if roll < 0.60:
            page = rng.randrange(1, SEEDED // 10 + 1)
            out.append(f"GET {P}/rulesets?limit=10&page={page} HTTP/1.1\r\n{head}\r\n".encode())
        elif roll < 0.85:
            out.append(f"GET {P}/rulesets/external/bench-{i} HTTP/1.1\r\n{head}\r\n".encode())
        else:
            body = json.dumps(ruleset_body(f"bench-{i}", rng.randrange(1, 50))).encode()
            out.append(
                f"PUT {P}/rulesets/external/bench-{i} HTTP/1.1\r\n{head}"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
    return out


@dataclass
class Connection:
    sock: socket.socket
    buffer: bytes = b""
    sent_at: float = 0.0
    header_end: int = -1
    length: int = 0
    status: int = 0


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0


def drive(
    host: str, port: int, requests: list[bytes], connections: int, warmup: int
) -> tuple[Result, float]:
    """Send every request over ``connections`` keep-alive sockets; (result, measured seconds)."""
    selector = selectors.DefaultSelector()
    result = Result()
    issued = done = 0
    started = 0.0
    total = len(requests)

    def send(conn: Connection) -> None:
        nonlocal issued
        conn.sent_at = time.perf_counter()
        conn.sock.sendall(requests[issued])
        issued += 1

    for _ in range(min(connections, total)):
        sock = socket.create_connection((host, port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        opened = Connection(sock)
        send(opened)
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, opened)

    while done < total:
        events = selector.select(timeout=10)
        if not events:
            raise SystemExit("no answer for 10 s: the server stalled")
        for key, _ in events:
            conn: Connection = key.data
            try:
                chunk = conn.sock.recv(1 << 16)
            except BlockingIOError:
                continue
            if not chunk:
                raise SystemExit("the server closed a keep-alive connection")
            conn.buffer += chunk
            while True:
                if conn.header_end < 0:
                    conn.header_end = conn.buffer.find(b"\r\n\r\n")
                    if conn.header_end < 0:
                        break
                    head = conn.buffer[: conn.header_end].decode("latin-1")
                    conn.status = int(head.split(" ", 2)[1])
                    found = re.search(r"(?im)^content-length:\s*(\d+)", head)
                    conn.length = int(found.group(1)) if found else 0
                end = conn.header_end + 4 + conn.length
                if len(conn.buffer) < end:
                    break
                conn.buffer = conn.buffer[end:]
                conn.header_end = -1
                done += 1
                if done == warmup:
                    started = time.perf_counter()
                    result = Result()
                elif done > warmup:
                    result.latencies.append(time.perf_counter() - conn.sent_at)
                    result.statuses[conn.status] = result.statuses.get(conn.status, 0) + 1
                    if not 200 <= conn.status < 300:
                        result.errors += 1
                if issued < total:
                    conn.sock.setblocking(True)
                    send(conn)
                    conn.sock.setblocking(False)
    elapsed = time.perf_counter() - started
    for key in list(selector.get_map().values()):
        key.fileobj.close()  # type: ignore[union-attr]
    return result, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=16, help="server worker threads")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.sqlite"
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "reconciler.sandbox.command",
                "serve",
                "--port",
                "0",
                "--rate",
                "0",
                "--db",
                str(db),
                "--threads",
                str(args.threads),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            found = re.search(r"http://(127\.0\.0\.1):(\d+)", line)
            if not found:
                raise SystemExit(f"the sandbox did not start: {line!r}")
            host, port = found.group(1), int(found.group(2))
            with httpx.Client(
                base_url=f"http://{host}:{port}", headers={"Authorization": f"Bearer {TOKEN}"}
            ) as client:
                for i in range(SEEDED):
                    client.put(
                        f"{P}/rulesets/external/bench-{i}", json=ruleset_body(f"bench-{i}", 10)
                    )
            requests = build_requests(f"{host}:{port}", args.requests, random.Random(args.seed))
            warmup = args.requests // 20
            result, elapsed = drive(host, port, requests, args.connections, warmup)
        finally:
            server.terminate()
            server.wait(timeout=10)

    measured = len(result.latencies)
    ordered = sorted(result.latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    rate = measured / elapsed
    print(
        f"{measured} requests over {args.connections} keep-alive connections in {elapsed:.2f} s: "
        f"{rate:,.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, errors {result.errors} "
        f"(statuses {dict(sorted(result.statuses.items()))})"
    )
    target_met = rate >= 1000 and result.errors == 0
    print("target (1,000 req/s, no errors):", "met" if target_met else "NOT met")
    return 0 if target_met else 1


if __name__ == "__main__":
    raise SystemExit(main())
