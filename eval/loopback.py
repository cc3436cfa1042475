"""Serving the app on loopback for tests, the benchmark and the screenshots."""

from __future__ import annotations

import socket
import threading
import time


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def serve(app, check: str = "/notices", tries: int = 300) -> tuple[str, object]:  # noqa: ANN001
    """``app`` on a free loopback port in a thread; its base URL (no trailing slash) once
    ``check`` answers 200, and the uvicorn server (set ``should_exit`` to stop it)."""
    import httpx
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(tries):
        try:
            if httpx.get(url + check, timeout=2).status_code == 200:
                return url, server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("app did not start")
