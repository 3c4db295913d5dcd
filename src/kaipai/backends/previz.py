"""The default picture and sound backend: previz keyframes, camera-move clips, lip sync, a music bed,
ambience and sound effects.

Offline, deterministic and fast on any laptop: the animatic a director wants before spending
money on generation. It sits behind the same interface as the generative backends, so moving a
stage to a real model is one line in the document.
"""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from kaipai.backends.base import (
    Backend,
    Capability,
    CapabilitySheet,
    ImageRequest,
    JobContext,
    LipsyncRequest,
    MusicRequest,
    Result,
    SoundRequest,
    UnsupportedRequest,
    VideoRequest,
)


class PrevizBackend(Backend):
    name = "previz"
    generative = False  # drawn or synthesised by rules, offline: nothing to label
    capabilities = frozenset(
        {Capability.image, Capability.video, Capability.lipsync, Capability.music, Capability.sound}
    )
    version = "1"

    def describe(self, capability: Capability) -> CapabilitySheet:
        typical = {
            Capability.image: 0.05,
            Capability.video: 0.6,
            Capability.lipsync: 0.6,
            Capability.music: 0.1,
            Capability.sound: 0.2,
        }
        return CapabilitySheet(
            capability=capability,
            model="previz",
            max_concurrency=2,
            typical_seconds=typical.get(capability, 0.1),
            # A keyframe is keyed on its characters' pictures (the storyboard follows the cast); a clip
            # animates its keyframes and takes none.
            max_reference_images=99 if capability == Capability.image else 0,
            first_last_frame=capability == Capability.video,
            deterministic=True,
            drawn=True,
        )

    def generate_image(self, request: ImageRequest, ctx: JobContext) -> Result:
        from kaipai.previz.draw import draw_keyframe, save_keyframe

        if request.shot is None:  # a reference sheet or a bare prompt: the characters lined up, full length
            from kaipai.document.shots import Placement, Shot

            sheet = request.purpose == "reference_sheet" and bool(request.characters)
            if sheet:
                # one character three times: front, side and back, left to right
                c = request.characters[0]
                lineup = [
                    Placement(character=c.id, third="left"),
                    Placement(character=c.id, third="center", facing="right"),
                    Placement(character=c.id, third="right", facing="away"),
                ]
                views = "正面 · 侧面 · 背面" if request.language == "zh" else "front · side · back"
                shot = Shot(
                    id="sheet",
                    scene="S1",
                    order=1,
                    size="LS",
                    composition=lineup,
                    description=f"{c.name}  {views}  {c.description}".strip(),
                )
            else:
                lineup = [Placement(character=c.id) for c in request.characters]
                shot = Shot(
                    id="card",
                    scene=request.scene.id if request.scene else "S1",
                    order=1,
                    size="LS" if lineup else "MS",
                    composition=lineup,
                    description=request.prompt,
                )
        else:
            sheet = False
            shot = request.shot
        img, layout = draw_keyframe(
            shot,
            None if sheet else request.scene,
            request.characters,
            request.style,
            request.width,
            request.height,
            request.language,
            neutral=sheet,
        )
        out = ctx.out_dir / "keyframe.png"
        save_keyframe(img, layout, str(out))
        return Result(
            files=[out],
            width=request.width,
            height=request.height,
            model="previz",
            metadata={"mouths": sorted(layout.mouths)},
        )

    def generate_video(self, request: VideoRequest, ctx: JobContext) -> Result:
        from kaipai.previz.motion import (
            FrameSizeError,
            encode,
            frame_count,
            frames,
            split_band,
        )
        from kaipai.previz.tween import crossfade, tween

        if request.image is None:
            raise UnsupportedRequest("previz video animates the shot's keyframe; render the keyframe stage first")
        move = request.shot.move.value if request.shot is not None else "static"
        with Image.open(request.image) as src:
            src.load()
            picture, band, layout = split_band(src)
            band_h = int(round(band.height * request.height / src.height / 2) * 2) if band is not None else 0
        meta: dict[str, object] = {
            "move": move,
            "seed": request.seed,
            "picture": list(picture.size),
            "band_h": band_h,
            "layout": layout.to_json() if layout else "",
        }
        total = frame_count(request.duration, request.fps)
        out = ctx.out_dir / "clip.mp4"
        args = (request.duration, request.fps, request.width, request.height, request.seed)
        if request.last_image is None:
            pictures = frames(request.image, move, *args)
        elif request.shot is not None and request.shot.end is not None and _drawn(request.image, request.last_image):
            pictures, meta, total = tween(
                request.shot,
                request.scene,
                request.characters,
                request.style,
                request.width,
                request.height,
                request.language,
                request.duration,
                request.fps,
                request.seed,
            )
        else:  # pictures previz did not draw: the start dissolves into the end during the move
            meta["layout"] = ""
            pictures = crossfade(frames(request.image, move, *args), frames(request.last_image, move, *args), total)
        try:
            count = encode(
                pictures,
                out,
                request.fps,
                request.width,
                request.height,
                {"comment": json.dumps(meta)},
                on_frame=lambda i: ctx.progress(i / total) if i % 24 == 0 else None,
            )
        except FrameSizeError as exc:
            raise UnsupportedRequest(str(exc)) from None
        return Result(
            files=[out],
            duration=count / request.fps,
            width=request.width,
            height=request.height,
            fps=request.fps,
            model="previz",
            metadata={"move": move, "frames": count},
        )

    def lipsync(self, request: LipsyncRequest, ctx: JobContext) -> Result:
        from kaipai.previz.motion import is_previz_clip
        from kaipai.previz.mouth import lipsync_clip

        if not is_previz_clip(request.video):
            raise UnsupportedRequest(
                "previz lip sync draws mouths on previz clips only, and this clip was made by another video "
                "model; name a lip-sync backend under backends.lipsync to sync it"
            )
        out = ctx.out_dir / "lipsync.mp4"
        count = lipsync_clip(request.video, request.audio, list(request.speakers), request.fps, out)
        return Result(
            files=[out],
            duration=count / request.fps,
            fps=request.fps,
            model="previz",
            metadata={"speakers": sorted({s[0] for s in request.speakers})},
        )

    def generate_music(self, request: MusicRequest, ctx: JobContext) -> Result:
        from kaipai.previz.music import write_pad

        out = ctx.out_dir / "music.wav"
        seconds = write_pad(out, request.prompt, request.duration, request.sample_rate)
        return Result(files=[out], duration=seconds, model="previz")

    def generate_sound(self, request: SoundRequest, ctx: JobContext) -> Result:
        from kaipai.previz.sound import RATE, ambience, effect, write_wav

        if request.kind == "ambience":
            samples = ambience(request.prompt, request.duration or 10.0, request.seed)
        else:
            samples = effect(request.prompt, request.duration, request.seed)
        out = ctx.out_dir / f"{request.kind}.wav"
        seconds = write_wav(out, samples, RATE)
        return Result(files=[out], duration=seconds, model="previz", metadata={"kind": request.kind})

    def check(self) -> str:
        return "previz: offline animatic, always available"


def _drawn(*pictures: Path) -> bool:
    """Whether every picture is a previz keyframe (with its layout), so a clip can redraw what is between them."""
    from kaipai.previz.draw import read_layout

    for path in pictures:
        with Image.open(path) as im:
            if read_layout(im) is None:
                return False
    return True
