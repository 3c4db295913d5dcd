"""Keyframes and clips of the example film with real diffusers weights, timed.

    python benchmarks/gpu/gpu_bench.py --image-model black-forest-labs/FLUX.1-schnell \
        --video-model Wan-AI/Wan2.1-I2V-14B-480P-Diffusers [--lang en] [--shots 6] [--steps 4] \
        [--device cuda] [--dtype bf16] [--offload model] [--vae-tiling] [--out results.json]

Model ids or local folders (downloaded beforehand: the script never fetches on its own if
HF_HUB_OFFLINE=1). It plans the bundled example screenplay with the offline rules, builds
each shot's keyframe and clip request the way the render engine does, snaps them to the
models' rules, and reports: pipeline load time, seconds per keyframe and seconds of compute
per second of video (the first call of each pipeline, with warm-up, is reported apart).
Prints one human line and one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--image-model", required=True)
    ap.add_argument("--video-model", default=None, help="Skip clips when omitted.")
    ap.add_argument("--lang", default="en", choices=["en", "zh"])
    ap.add_argument("--shots", type=int, default=6)
    ap.add_argument("--steps", type=int, default=None, help="Denoising steps (default: the family's).")
    ap.add_argument("--video-steps", type=int, default=None)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--dtype", default="auto")
    ap.add_argument("--offload", default="none", choices=["none", "model", "sequential"])
    ap.add_argument("--vae-tiling", action="store_true")
    ap.add_argument("--width", type=int, default=None, help="Frame width (default: the project's 1280, 832 for clips).")
    ap.add_argument("--height", type=int, default=None)
    ap.add_argument(
        "--clip-seconds",
        type=float,
        default=None,
        help="Clip length (default: each shot's duration, capped by the model).",
    )
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    from kaipai.backends.base import Capability, JobContext, check_request, snap_request
    from kaipai.backends.diffusers.backend import DiffusersBackend
    from kaipai.document.backend_choice import BackendChoice
    from kaipai.engine.requests import clip_request, keyframe_request
    from kaipai.planning.importer import document_from_screenplay
    from kaipai.planning.rules import plan_document
    from kaipai.screenplay import parse_file
    from kaipai.screenplay.examples import example_path

    doc = plan_document(document_from_screenplay(parse_file(example_path(args.lang)))).document
    shots = doc.ordered_shots()[: args.shots]
    common: dict[str, Any] = {
        "device": args.device,
        "dtype": args.dtype,
        "offload": args.offload,
        "vae_tiling": args.vae_tiling,
        "keep_loaded": False,
    }
    image = DiffusersBackend(args.image_model, **common, **({"steps": args.steps} if args.steps else {}))
    image_sheet = image.sheet(Capability.image)
    work = Path(tempfile.mkdtemp(prefix="kaipai-gpu-bench-"))
    report: dict[str, Any] = {
        "image_model": args.image_model,
        "video_model": args.video_model,
        "device": image.check(),
        "shots": len(shots),
    }

    def job(name: str) -> JobContext:
        out = work / name
        out.mkdir(parents=True, exist_ok=True)
        return JobContext(out_dir=out)

    keyframes: list[Path] = []
    image_times: list[float] = []
    for i, shot in enumerate(shots):
        request = keyframe_request(
            doc, shot, 1000 + i, BackendChoice(use="diffusers", model=args.image_model), lambda p: Path(p)
        )
        if args.width and args.height:
            request = request.model_copy(update={"width": args.width, "height": args.height})
        request = snap_request(image_sheet, request)
        check_request(image_sheet, request)
        t0 = time.perf_counter()
        result = image.generate_image(request, job(f"key-{shot.id}"))
        image_times.append(time.perf_counter() - t0)
        keyframes.append(result.files[0])
    image.close()
    report["keyframe_size"] = f"{request.width}x{request.height}"
    report["first_keyframe_s_with_load"] = round(image_times[0], 2)
    report["s_per_keyframe"] = round(statistics.median(image_times[1:] or image_times), 3)

    if args.video_model:
        video = DiffusersBackend(
            args.video_model, **common, **({"steps": args.video_steps} if args.video_steps else {})
        )
        sheet = video.sheet(Capability.video)
        clip_times: list[tuple[float, float]] = []
        for i, (shot, key) in enumerate(zip(shots, keyframes)):
            duration = args.clip_seconds or shot.duration
            request = clip_request(
                doc, shot, key, duration, 2000 + i, BackendChoice(use="diffusers", model=args.video_model)
            )
            request = request.model_copy(update={"width": args.width or 832, "height": args.height or 480})
            request = snap_request(sheet, request)
            check_request(sheet, request)
            t0 = time.perf_counter()
            result = video.generate_video(request, job(f"clip-{shot.id}"))
            clip_times.append((time.perf_counter() - t0, float(result.duration or 0.0)))
        video.close()
        warm = clip_times[1:] or clip_times
        report["clip_size"] = f"{request.width}x{request.height}@{request.fps}"
        report["first_clip_s_with_load"] = round(clip_times[0][0], 2)
        report["s_per_video_second"] = round(sum(t for t, _ in warm) / max(1e-9, sum(d for _, d in warm)), 2)
        report["video_seconds"] = round(sum(d for _, d in clip_times), 2)
    report["outputs"] = str(work)
    line = f"{report['s_per_keyframe']} s/keyframe ({args.image_model})"
    if args.video_model:
        line += f", {report['s_per_video_second']} s per second of video ({args.video_model})"
    print(line)
    print(json.dumps(report, ensure_ascii=False))
    if args.out:
        args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
