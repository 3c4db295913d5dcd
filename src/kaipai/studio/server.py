"""Serving the studio: bind (loopback unless told otherwise), print the URL with its token, run uvicorn."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field

import uvicorn

from kaipai.project import ProjectPaths
from kaipai.studio.app import create_app
from kaipai.studio.security import is_loopback, new_token

DEFAULT_HOST = "127.0.0.1"


def exposure_warning(host: str) -> str | None:
    """A warning for the director when the studio is reachable from other machines."""
    if is_loopback(host):
        return None
    return (
        f"the studio is listening on {host}, so other machines on the network can reach it; "
        "anyone with the URL can edit the film and spend the render budget. Use --host 127.0.0.1 unless you mean it."
    )


@dataclass
class Studio:
    """One studio server for one project, on an already-bound socket so the URL is known before it starts."""

    paths: ProjectPaths
    host: str = DEFAULT_HOST
    port: int = 0
    token: str = field(default_factory=new_token)

    def __post_init__(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((self.host, self.port))
        self.port = self.socket.getsockname()[1]
        self.app = create_app(self.paths, self.token)
        self.server = uvicorn.Server(
            uvicorn.Config(self.app, log_level="warning", access_log=False, timeout_graceful_shutdown=2)
        )

    @property
    def base(self) -> str:
        host = self.host if self.host not in ("0.0.0.0", "::") else socket.gethostname()
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/?token={self.token}"

    def serve(self) -> None:
        """Run until interrupted (Ctrl-C)."""
        self.server.run(sockets=[self.socket])

    def start(self) -> threading.Thread:
        """Run on a background thread (for tests and embedding); returns once it accepts requests."""
        thread = threading.Thread(target=self.serve, name="kaipai-studio", daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        return thread

    def stop(self) -> None:
        self.server.should_exit = True
