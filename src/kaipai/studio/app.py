"""The studio's web application: JSON routes over the service layer, media, and the page itself.

Routes are thin: each calls one service function (the same ones the CLI calls) and turns
the director's mistakes into a 400 with the located problems, never a traceback.
"""

from __future__ import annotations

import asyncio
import html
import json
import threading
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import pysubs2
from fastapi import Body, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from kaipai.backends.base import BackendError
from kaipai.document.io import DocumentError
from kaipai.project import ProjectPaths
from kaipai.service import edit, takes
from kaipai.studio import views
from kaipai.studio.jobs import JobBusy, Jobs
from kaipai.studio.security import HEADER, TokenGuard

STATIC = resources.files("kaipai.studio") / "static"


class NewShot(BaseModel):
    after: str | None = None
    scene: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict)


class Move(BaseModel):
    before: str | None = None


class Lock(BaseModel):
    locked: bool = True


class NewLine(BaseModel):
    speaker: str
    text: str


class Retake(BaseModel):
    stage: str = "clip"
    seed: int | None = None
    note: str = ""


class RenderOrder(BaseModel):
    budget: float | None = Field(default=None, ge=0)
    shots: list[str] | None = None
    stages: list[str] | None = None


class CutOrder(BaseModel):
    burn_subtitles: bool = False
    profile: str = "web"
    slate: bool = False  # the animatic: each shot with its info bar


def _problems(exc: DocumentError) -> JSONResponse:
    problems = [{"field": p.field, "message": p.message, "where": str(p)} for p in exc.problems]
    return JSONResponse(
        {"error": "; ".join(f"{p.field}: {p.message}" for p in exc.problems), "problems": problems}, status_code=400
    )


def create_app(paths: ProjectPaths, token: str) -> FastAPI:
    """The studio for one project; every request must carry ``token`` (see :mod:`kaipai.studio.security`)."""
    app = FastAPI(title="kaipai studio", docs_url=None, redoc_url=None, openapi_url=None)
    jobs = Jobs()
    last_cut: dict[str, Any] = {}
    app.state.paths, app.state.jobs = paths, jobs

    app.add_exception_handler(DocumentError, lambda _r, exc: _problems(exc))  # type: ignore[arg-type]
    app.add_exception_handler(BackendError, lambda _r, exc: JSONResponse({"error": str(exc)}, status_code=409))
    app.add_exception_handler(JobBusy, lambda _r, exc: JSONResponse({"error": str(exc)}, status_code=409))

    # ------------------------------------------------------------------ the page
    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        page = (STATIC / "index.html").read_text(encoding="utf-8")
        page = page.replace("{{TOKEN}}", html.escape(token)).replace("{{HEADER}}", HEADER)
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.get("/fonts/cjk")
    def cjk_font() -> FileResponse:
        """The bundled Noto Sans CJK, so Chinese reads right on machines without a CJK system font."""
        from kaipai.fonts import cjk_font_path

        return FileResponse(cjk_font_path(), media_type="font/otf", headers={"Cache-Control": "max-age=86400"})

    # ------------------------------------------------------------------ storyboard and shots
    @app.get("/api/storyboard")
    def storyboard() -> dict[str, Any]:
        return views.storyboard(paths)

    @app.get("/api/shots/{shot_id}")
    def shot(shot_id: str) -> dict[str, Any]:
        return views.shot_page(paths, shot_id)

    @app.patch("/api/shots/{shot_id}")
    def edit_shot(shot_id: str, fields: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        return edit.edit_shot(paths, shot_id, fields).model_dump(mode="json")

    @app.patch("/api/shots/{shot_id}/lines/{line_id}")
    def edit_line(shot_id: str, line_id: str, fields: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        return edit.edit_line(paths, shot_id, line_id, fields).model_dump(mode="json")

    @app.post("/api/shots/{shot_id}/lines")
    def add_line(shot_id: str, line: NewLine) -> dict[str, Any]:
        return edit.add_line(paths, shot_id, line.speaker, line.text).model_dump(mode="json")

    @app.delete("/api/shots/{shot_id}/lines/{line_id}")
    def delete_line(shot_id: str, line_id: str) -> dict[str, Any]:
        edit.delete_line(paths, shot_id, line_id)
        return {"deleted": line_id}

    @app.post("/api/shots")
    def add_shot(order: NewShot) -> dict[str, Any]:
        return edit.add_shot(paths, after=order.after, scene=order.scene, fields=order.fields).model_dump(mode="json")

    @app.delete("/api/shots/{shot_id}")
    def delete_shot(shot_id: str) -> dict[str, Any]:
        edit.delete_shot(paths, shot_id)
        return {"deleted": shot_id}

    @app.post("/api/shots/{shot_id}/move")
    def move_shot(shot_id: str, move: Move) -> dict[str, Any]:
        return {"order": edit.move_shot(paths, shot_id, before=move.before)}

    @app.post("/api/shots/{shot_id}/lock")
    def lock_shot(shot_id: str, lock: Lock) -> dict[str, Any]:
        return edit.set_locked(paths, shot_id, lock.locked).model_dump(mode="json")

    # ------------------------------------------------------------------ takes
    @app.post("/api/shots/{shot_id}/takes/{take_id}/circle")
    def circle(shot_id: str, take_id: int) -> dict[str, Any]:
        return takes.circle(paths, shot_id, take_id).model_dump(mode="json")

    @app.post("/api/shots/{shot_id}/takes/{take_id}/reject")
    def reject(shot_id: str, take_id: int) -> dict[str, Any]:
        return takes.reject(paths, shot_id, take_id).model_dump(mode="json")

    @app.post("/api/shots/{shot_id}/retake")
    def retake(shot_id: str, order: Retake) -> dict[str, Any]:
        if order.note.strip():
            made = takes.retake_with_note(paths, shot_id, order.note.strip(), stage=order.stage, seed=order.seed)
        else:
            made = takes.retake(paths, shot_id, stage=order.stage, seed=order.seed)
        return {"takes": [t.id for t in made]}

    # ------------------------------------------------------------------ cast and style
    @app.get("/api/cast")
    def cast() -> dict[str, Any]:
        return views.cast_page(paths)

    @app.patch("/api/style")
    def style(fields: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        return edit.edit_style(paths, fields).model_dump(mode="json")

    @app.patch("/api/characters/{character_id}")
    def character(character_id: str, fields: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        return edit.edit_character(paths, character_id, fields).model_dump(mode="json")

    # ------------------------------------------------------------------ render queue and cut
    @app.post("/api/render")
    def start_render(order: RenderOrder) -> dict[str, Any]:
        from kaipai.service.render import render

        def work(emit: Any, cancel: threading.Event) -> dict[str, Any]:
            summary = render(
                paths,
                budget=order.budget,
                shots=order.shots,
                stages=order.stages,
                cancel=cancel,
                on_event=lambda e: emit(e.model_dump(mode="json")),
            )
            return summary.model_dump(mode="json", exclude={"nodes"})

        return jobs.start("render", work).summary()

    @app.post("/api/cut")
    def start_cut(order: CutOrder) -> dict[str, Any]:
        from kaipai.service.cut import current_cut, make_cut

        def work(emit: Any, _cancel: threading.Event) -> dict[str, Any]:
            timeline = current_cut(paths)
            result = make_cut(
                paths,
                profile=order.profile,
                burn_subtitles=order.burn_subtitles,
                slate=order.slate,
                on_event=lambda p: emit(
                    {"kind": "cut_progress", "fraction": float(p.fraction), "message": str(getattr(p, "message", ""))}
                ),
            )
            last_cut.clear()
            last_cut["shots"] = [
                {"shot": s.shot, "start": s.start, "end": s.end, "description": s.description} for s in timeline.shots
            ]
            return {
                "film": views.media_url(paths, Path(result.film)),
                "duration": result.duration,
                "shots": result.shots,
                "missing": list(result.missing),
            }

        return jobs.start("cut", work).summary()

    @app.post("/api/jobs/cancel")
    def cancel() -> dict[str, Any]:
        return {"cancelling": jobs.cancel()}

    @app.get("/api/jobs/current")
    def current_job() -> dict[str, Any]:
        job = jobs.current
        return {"job": job.summary() if job else None, "events": job.events[-200:] if job else []}

    @app.get("/api/events")
    async def events(request: Request, after: int = 0) -> StreamingResponse:
        """Server-sent events of the current job, from event ``after`` on; the stream ends with the job."""

        async def stream() -> AsyncIterator[str]:
            resumed = request.headers.get("last-event-id", "")
            job, seen, idle = jobs.current, max(after, int(resumed) if resumed.isdigit() else 0), 0.0
            if job is None:
                yield "event: idle\ndata: {}\n\n"
                return
            while not await request.is_disconnected():
                fresh = job.events[seen:]
                for event in fresh:
                    seen += 1
                    yield f"id: {seen}\ndata: {json.dumps(event, ensure_ascii=False)}\n\n"
                if job.done and seen >= len(job.events):
                    return
                idle = 0.0 if fresh else idle + 0.1
                if idle >= 15:
                    idle = 0.0
                    yield ": still working\n\n"
                await asyncio.sleep(0.1)

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        )

    # ------------------------------------------------------------------ screening room
    @app.get("/api/screening")
    def screening() -> dict[str, Any]:
        from kaipai.service.cut import current_cut

        film = paths.output / "film.mp4"
        shots = last_cut.get("shots")
        if shots is None:
            shots = [
                {"shot": s.shot, "start": s.start, "end": s.end, "description": s.description}
                for s in current_cut(paths).shots
            ]
        version = int(film.stat().st_mtime) if film.exists() else 0
        animatic = paths.output / "animatic.mp4"
        return {
            "film": f"{views.media_url(paths, film)}?v={version}" if film.exists() else None,
            "animatic": (
                f"{views.media_url(paths, animatic)}?v={int(animatic.stat().st_mtime)}" if animatic.exists() else None
            ),
            "subtitles": f"/api/subtitles.vtt?v={version}" if (paths.output / "film.srt").exists() else None,
            "shots": shots,
        }

    @app.get("/api/subtitles.vtt")
    def subtitles() -> PlainTextResponse:
        srt = paths.output / "film.srt"
        if not srt.exists():
            raise HTTPException(404, "no subtitles yet; make the cut first")
        return PlainTextResponse(
            pysubs2.load(str(srt), encoding="utf-8").to_string("vtt"), media_type="text/vtt; charset=utf-8"
        )

    # ------------------------------------------------------------------ media
    @app.get("/media/{rel:path}")
    def media(rel: str) -> FileResponse:
        return FileResponse(media_file(paths, rel))

    app.add_middleware(TokenGuard, token=token)
    return app


def media_file(paths: ProjectPaths, rel: str) -> Path:
    """A media file of the project; anything outside the project folder, or not media, is refused."""
    root = paths.root.resolve()
    target = (root / rel).resolve()
    if target != root and root not in target.parents:
        raise HTTPException(403, "that path leaves the project folder")
    if target.suffix.lower() not in views.MEDIA_SUFFIXES:
        raise HTTPException(403, "only pictures, clips, sound and subtitles are served")
    if not target.is_file():
        raise HTTPException(404, f"no file {rel!r} in the project")
    return target
