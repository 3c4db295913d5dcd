"""Playing a master in headless Chromium, served as a web server would serve it."""

from __future__ import annotations

import base64
import http.server
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image

CHROMIUM = "/usr/bin/chromium"


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Serves byte ranges, as any web server does, so the browser can seek."""

    def log_message(self, *args: object) -> None:
        pass

    def send_head(self):  # type: ignore[no-untyped-def]
        spec = self.headers.get("Range", "")
        path = Path(self.translate_path(self.path))
        if not spec.startswith("bytes=") or not path.is_file():
            return super().send_head()
        size = path.stat().st_size
        first, _, last = spec[6:].partition("-")
        start = int(first or 0)
        end = min(int(last) if last else size - 1, size - 1)
        handle = path.open("rb")
        handle.seek(start)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        return _Limited(handle, end - start + 1)


class _Limited:
    def __init__(self, handle: IO[bytes], length: int) -> None:
        self.handle, self.left = handle, length

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        data = self.handle.read(n)
        self.left -= len(data)
        return data

    def close(self) -> None:
        self.handle.close()


@contextmanager
def serve_film(film: Path) -> Iterator[str]:
    """The address of a page with the film in a ``<video id="v">``, served from the film's folder."""
    (film.parent / "play.html").write_text(f'<video id="v" src="{film.name}" muted playsinline></video>')
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(RangeHandler, directory=str(film.parent)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/play.html"
    finally:
        server.shutdown()


def play_to_the_end(page_url: str, last_seconds: float | None = None, timeout_ms: int = 60000) -> str:
    """Play the page's video in Chromium (from ``last_seconds`` before its end, when given) and say
    how it went: ``ended after D`` (D its duration), or what stopped it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--autoplay-policy=no-user-gesture-required"])
        page = browser.new_page()
        page.goto(page_url)
        result = page.evaluate(
            """([from_end, timeout]) => new Promise(resolve => {
                const v = document.getElementById('v');
                if (!v.canPlayType('video/mp4; codecs="avc1.640028, mp4a.40.2"')) resolve('cannot play H.264/AAC');
                setTimeout(() => resolve('timeout at ' + v.currentTime + ' of ' + v.duration), timeout);
                v.addEventListener('error', () => resolve('error ' + (v.error && v.error.code)));
                v.addEventListener('ended', () => resolve('ended after ' + v.duration.toFixed(2)));
                const start = () => {
                    if (from_end !== null) v.currentTime = Math.max(0, v.duration - from_end);
                    v.play().catch(e => resolve('play failed: ' + e));
                };
                if (v.readyState >= 1) start(); else v.addEventListener('loadedmetadata', start);
            })""",
            [last_seconds, timeout_ms],
        )
        browser.close()
    return str(result)


def frames_at(page_url: str, seconds: list[float], timeout_ms: int = 60000) -> list[np.ndarray]:
    """The pictures Chromium shows at each of ``seconds`` (seeked to, drawn on a canvas), as RGB arrays."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page()
        page.goto(page_url)
        urls = page.evaluate(
            """async ([times, timeout]) => {
                const v = document.getElementById('v');
                const wait = (what) => new Promise((resolve, reject) => {
                    const t = setTimeout(() => reject(new Error('timeout waiting for ' + what)), timeout);
                    v.addEventListener(what, () => { clearTimeout(t); resolve(); }, {once: true});
                    v.addEventListener('error', () => reject(new Error('error ' + (v.error && v.error.code))),
                                       {once: true});
                });
                if (v.readyState < 2) await wait('loadeddata');
                const c = document.createElement('canvas');
                c.width = v.videoWidth; c.height = v.videoHeight;
                const out = [];
                for (const t of times) {
                    v.currentTime = t;
                    await wait('seeked');
                    c.getContext('2d').drawImage(v, 0, 0);
                    out.push(c.toDataURL('image/png'));
                }
                return out;
            }""",
            [seconds, timeout_ms],
        )
        browser.close()
    return [np.asarray(Image.open(io.BytesIO(base64.b64decode(u.split(",", 1)[1]))).convert("RGB")) for u in urls]
