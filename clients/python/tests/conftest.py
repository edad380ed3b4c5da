"""A real ``agent-sessions serve`` (memory store, on a free port) for the whole test run, and clients of it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from agent_sessions import Client  # noqa: E402

REPOSITORY = Path(__file__).resolve().parents[3]
CLI = REPOSITORY / "packages" / "cli" / "bin" / "agent-sessions.js"

#: One organization per concern, so counts in one test do not see another's records.
KEYS: Dict[str, str] = {"main": "main-key", "retry": "retry-key", "seed": "seed-key", "hooks": "hooks-key"}


@dataclass
class Server:
    """The running server: where it listens and the key of each organization."""

    url: str
    keys: Dict[str, str]

    def client(self, org: str = "main", base_url: Optional[str] = None, **options: object) -> Client:
        """A client of ``org``'s key (at ``base_url``, a proxy say, instead of the server), fast backoff by default."""
        options.setdefault("backoff", (0.05, 0.5))
        return Client(api_key=self.keys[org], base_url=base_url or self.url, **options)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """Starts ``agent-sessions serve`` once, reads its URL from the banner, stops it at the end."""
    if not (REPOSITORY / "packages" / "cli" / "dist").exists():
        pytest.fail("packages/cli is not built: run `pnpm build` first", pytrace=False)
    node = os.environ.get("AGENT_SESSIONS_NODE", "node")
    args = [node, str(CLI), "serve", "--store", "memory", "--port", "0", "--allow-private-webhooks", "--rate-limit", "off", "--log-level", "warn"]
    for org, key in KEYS.items():
        args += ["--api-key", f"org_{org}:{key}"]
    child = subprocess.Popen(args, cwd=REPOSITORY, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: List[str] = []
    errors: List[str] = []
    found = threading.Event()

    def read() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            lines.append(line)
            if re.search(r"listening on (http://\S+)", line):
                found.set()

    def drain() -> None:
        assert child.stderr is not None
        errors.extend(child.stderr)

    threading.Thread(target=read, daemon=True).start()
    threading.Thread(target=drain, daemon=True).start()
    if not found.wait(30):
        child.kill()
        pytest.fail(f"agent-sessions serve did not start:\n{''.join(lines)}\n{''.join(errors)}", pytrace=False)
    url = next(match.group(1) for match in (re.search(r"listening on (http://\S+)", line) for line in lines) if match)
    try:
        yield Server(url=url, keys=KEYS)
    finally:
        child.terminate()
        try:
            child.wait(5)
        except subprocess.TimeoutExpired:
            child.kill()


@pytest.fixture
def client(server: Server) -> Client:
    """A client of the main organization."""
    return server.client()


def eventually(check, timeout: float = 10.0, interval: float = 0.05):  # type: ignore[no-untyped-def]
    """Calls ``check`` until it returns something truthy, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {check}")
        time.sleep(interval)
