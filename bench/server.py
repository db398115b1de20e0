"""The served sandbox for the benchmarks, in its own process, and the control calls that steer it.

Owns two things: ``python -m bench.server`` (a ``reconciler.sandbox`` served with waitress on
127.0.0.1, printing its URL as its first line and stopping when its stdin closes, so it never
outlives the benchmark), and the parent's handles on it: ``ServerProcess`` (start, stop by its
own pid) and ``Control`` (the sandbox's ``/__sandbox__/`` endpoints: rate, faults, reset, load,
dump, stats). The server runs in a separate process so that its CPU and memory are not counted
as ours. It must not measure anything or know what a benchmark case is.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

#: The API token the benchmarks use; the sandbox is local, so this is no secret.
BENCH_TOKEN = "bench-token"
BENCH_APP = "boldrules-bench"
SHOP = "sandbox-shop"


class Control:
    """Calls to a sandbox's control surface (never rate limited, never fault-injected)."""

    def __init__(self, url: str, *, control_token: str | None = None) -> None:
        from reconciler.sandbox import CONTROL_TOKEN

        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url,
            timeout=300.0,
            headers={"Authorization": f"Bearer {control_token or CONTROL_TOKEN}"},
        )

    def _call(self, method: str, name: str, body: Any = None, *, raw: bytes | None = None) -> Any:
        if raw is not None:
            response = self._http.request(
                method,
                f"/__sandbox__/{name}",
                content=raw,
                headers={"Content-Type": "application/json"},
            )
        else:
            response = self._http.request(method, f"/__sandbox__/{name}", json=body)
        response.raise_for_status()
        return response.json()

    def set_rate(self, rate: float | None, *, burst: int = 10) -> None:
        """Turn the per-token rate limit on (``rate`` per second) or off (None)."""
        self._call("PUT", "rate", {"rate": rate, "burst": burst, "retry_after": True})

    def set_faults(self, **settings: Any) -> None:
        """Replace the fault settings (latency, jitter, seed, ...); unnamed ones go off."""
        self._call("PUT", "faults", settings)

    def reset(self, *, data: bool = True, stats: bool = True, faults: bool = False) -> None:
        """Forget data and/or statistics (which also refills the rate buckets)."""
        self._call("POST", "reset", {"data": data, "stats": stats, "faults": faults})

    def load(self, dump: bytes) -> None:
        """Replace every stored object with an encoded dump."""
        self._call("POST", "load", raw=dump)

    def dump(self) -> dict[str, Any]:
        """Every stored object."""
        result: dict[str, Any] = self._call("GET", "dump")
        return result

    def stats(self) -> dict[str, Any]:
        """Request counts by route and status since the last reset."""
        result: dict[str, Any] = self._call("GET", "stats")
        return result

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class ServerProcess:
    """``python -m bench.server`` as a child process; ``url`` is where it listens."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,  # where ``-m bench.server`` resolves
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line.startswith("http://127.0.0.1:"):
            self.close()
            raise RuntimeError(f"the benchmark sandbox did not start (said {line!r})")
        self.url = line
        self.pid = self._process.pid

    def close(self) -> None:
        """Close its stdin (it stops by itself), and terminate it by pid if it lingers."""
        if self._process.poll() is not None:
            return
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.terminate()
            self._process.wait(timeout=10)
        if self._process.stdout is not None:
            self._process.stdout.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def main() -> None:
    """Serve an in-memory sandbox with the benchmark token until stdin closes."""
    from reconciler.sandbox import Sandbox, serve

    sandbox = Sandbox(shop_identifier=SHOP)
    sandbox.add_token(BENCH_TOKEN, app=BENCH_APP)
    # 32 threads: the client never has more than a handful of calls in flight, but the
    # Bold-like latency is slept inside a worker thread, so spare threads keep it honest.
    with serve(sandbox, port=0, threads=32) as served:
        print(served.url, flush=True)
        sys.stdin.read()  # returns when the parent closes the pipe or dies


if __name__ == "__main__":
    main()
