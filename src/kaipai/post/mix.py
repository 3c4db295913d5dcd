"""The film's sound as one filtergraph: dialogue first, music, ambience and effects ducked under it.

Lines are laid end to end on "lanes" (silence between them), so the cost grows with the length of
the film, not with lines × length as it would if every line were delayed and mixed over the whole
film. Lines that overlap (one speaker cutting into another) go on a second lane; so do the two
ambience beds that crossfade at a scene change.

Four buses — dialogue, music, effects (with each clip's own sound), ambience — are each ducked
under the dialogue by a sidechain compressor and then summed with no normalisation, so the stems
are exactly the parts of the mix: they add up to it sample for sample, before the master's
loudness gain.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kaipai.post.cut import Cut
from kaipai.post.ffmpeg import Graph

RATE = 48000
FORMAT = f"aresample={RATE},aformat=sample_fmts=fltp:channel_layouts=stereo"
MUSIC_LEVEL = 0.4
AMBIENCE_LEVEL = 0.3
EFFECTS_LEVEL = 0.5
CLIP_SOUND_LEVEL = 0.5  # a clip's own sound under the dialogue
CROSSFADE = 1.0  # seconds two ambience beds overlap at a scene change
EFFECT_TAIL = 1.0  # seconds an effect may ring past the end of its shot
#: the dialogue level at which music starts ducking, and how hard
DUCK = "threshold=0.015:ratio=10:attack=15:release=350:makeup=1"
#: beds and effects duck more gently: the room stays audible under a line
BED_DUCK = "threshold=0.015:ratio=4:attack=30:release=600:makeup=1"
STEMS = ("dialogue", "music", "effects", "ambience")


@dataclass
class Placed:
    path: Path
    start: int  # samples from the start of the film
    length: int  # samples it occupies
    fade_out: int = 0  # samples of fade at its end
    volume: float = 1.0
    fade_in: int = 0  # samples of fade at its start
    loop: bool = False  # repeat the file to fill ``length`` (an ambience bed)


def samples(seconds: float) -> int:
    return round(seconds * RATE)


def lanes(items: list[Placed]) -> list[list[Placed]]:
    """Greedy interval partitioning: as few lanes as possible, no overlap within a lane."""
    out: list[list[Placed]] = []
    for item in sorted(items, key=lambda p: p.start):
        for lane in out:
            last = lane[-1]
            if last.start + last.length <= item.start:
                lane.append(item)
                break
        else:
            out.append([item])
    return out


def _lane(g: Graph, lane: list[Placed], total: int, tag: str) -> str:
    """One lane as a single stream of exactly ``total`` samples."""
    parts: list[str] = []
    first = lane[0].start
    if first > 0:
        g.chains.append(f"anullsrc=r={RATE}:cl=stereo,atrim=end_sample={first}[{tag}s]")
        parts.append(f"[{tag}s]")
    for j, item in enumerate(lane):
        nxt = lane[j + 1].start if j + 1 < len(lane) else total
        span = max(1, nxt - item.start)
        length = min(item.length, span)
        k = g.add_input(*(("-stream_loop", "-1") if item.loop else ()), "-i", str(item.path))
        chain = [FORMAT, f"atrim=end_sample={length}"]
        if item.fade_in:
            chain.append(f"afade=t=in:start_sample=0:nb_samples={min(item.fade_in, length)}")
        if item.fade_out:
            fade = min(item.fade_out, length)
            chain.append(f"afade=t=out:start_sample={length - fade}:nb_samples={fade}")
        if item.volume != 1.0:
            chain.append(f"volume={item.volume}")
        chain += [f"apad=whole_len={span}", f"atrim=end_sample={span}"]
        g.chains.append(f"[{k}:a]{','.join(chain)}[{tag}{j}]")
        parts.append(f"[{tag}{j}]")
    out = f"{tag}"
    if len(parts) == 1:
        g.chains.append(f"{parts[0]}anull[{out}]")
    else:
        g.chains.append(f"{''.join(parts)}concat=n={len(parts)}:v=0:a=1[{out}]")
    return out


def bus(g: Graph, items: list[Placed], total: int, name: str) -> str:
    """Everything in ``items`` placed on one stereo bus exactly ``total`` samples long."""
    if not items:
        g.chains.append(f"anullsrc=r={RATE}:cl=stereo,atrim=end_sample={total}[{name}]")
        return name
    labels = [
        _lane(g, lane, total, f"{name}{i}_") for i, lane in enumerate(lanes([p for p in items if p.start < total]))
    ]
    if len(labels) == 1:
        g.chains.append(f"[{labels[0]}]anull[{name}]")
    else:
        g.chains.append(
            f"{''.join(f'[{x}]' for x in labels)}amix=inputs={len(labels)}:normalize=0:duration=longest[{name}]"
        )
    return name


def dialogue_items(cut: Cut) -> list[Placed]:
    """Every voiced line, and the clips whose own sound carries their shot's dialogue."""
    lines = [
        Placed(line.path, samples(line.start), max(1, samples(line.end) - samples(line.start)))
        for line in cut.lines
        if line.path is not None
    ]
    spoken = [
        Placed(s.sound, samples(s.start), max(1, samples(s.end) - samples(s.start)))
        for s in cut.shots
        if s.sound is not None and s.sound_is_dialogue
    ]
    return lines + spoken


def effect_items(cut: Cut) -> list[Placed]:
    """Each rendered effect at its moment (ringing at most ``EFFECT_TAIL`` past its shot), and each clip's
    own sound under its shot."""
    total = samples(cut.duration)
    out = []
    for shot in cut.shots:
        for fx in shot.effects:
            if fx.path is None:
                continue
            begin = samples(fx.start)
            length = max(1, min(total, samples(shot.end + EFFECT_TAIL)) - begin)
            out.append(Placed(fx.path, begin, length, fade_out=min(samples(0.2), length), volume=EFFECTS_LEVEL))
        if shot.sound is not None and not shot.sound_is_dialogue:
            begin, end = samples(shot.start), samples(shot.end)
            out.append(Placed(shot.sound, begin, max(1, end - begin), volume=CLIP_SOUND_LEVEL))
    return out


def ambience_items(cut: Cut, beds: dict[int, Path]) -> list[Placed]:
    """Each scene's bed across its shots, looped, overlapping the next scene's by ``CROSSFADE`` (centred on
    the cut) with fades both ways; the film's first and last beds start and end on the frame."""
    total = samples(cut.duration)
    half = samples(CROSSFADE / 2)
    out = []
    for j, bed in enumerate(cut.beds):
        if j not in beds:
            continue
        begin = max(0, samples(bed.start) - half)
        end = min(total, samples(bed.end) + half)
        fade_in = samples(bed.start) - begin + half if begin > 0 else 0
        fade_out = end - samples(bed.end) + half if end < total else 0
        length = max(1, end - begin)
        out.append(
            Placed(
                beds[j], begin, length, fade_out=min(fade_out, length), volume=AMBIENCE_LEVEL,
                fade_in=min(fade_in, length), loop=True,
            )
        )  # fmt: skip
    return out


def music_items(cut: Cut, music: dict[int, Path]) -> list[Placed]:
    out = []
    for j, cue in enumerate(cut.music):
        if j in music:
            length = max(1, samples(cue.end) - samples(cue.start))
            out.append(
                Placed(
                    music[j], samples(cue.start), length, fade_out=min(samples(1.5), length // 4), volume=MUSIC_LEVEL
                )
            )
    return out


def audio_chain(
    g: Graph,
    cut: Cut,
    music: dict[int, Path],
    beds: dict[int, Path] | None = None,
    outputs: tuple[str, ...] = ("mix",),
) -> dict[str, str]:
    """The film's sound: the four stems (each ducked under the dialogue) and their sum, ``"mix"``.

    Returns the labels of ``outputs`` (names from ``STEMS`` and ``"mix"``), each to be mapped by the
    caller. Only what is asked for is made: an unused branch sunk inside the graph stalls FFmpeg's
    scheduler and the mix loses stretches of sound.
    """
    total = max(1, samples(cut.duration))
    parts: dict[str, list[Placed]] = {
        "music": music_items(cut, music),
        "effects": effect_items(cut),
        "ambience": ambience_items(cut, beds or {}),
    }
    ducked = [name for name, items in parts.items() if items]
    want_mix = "mix" in outputs
    labels: dict[str, str] = {}
    bus(g, dialogue_items(cut), total, "dlg")
    dlg_uses = [*(["dlg_mix"] if want_mix else []), *(["dlg_out"] if "dialogue" in outputs else [])]
    dlg_uses += [f"sc_{n}" for n in ducked if want_mix or n in outputs]
    _split(g, "dlg", dlg_uses)
    if "dialogue" in outputs:
        labels["dialogue"] = "dlg_out"
    mixed = ["dlg_mix"] if want_mix else []
    for name, items in parts.items():
        if not items:
            if name in outputs:
                g.chains.append(f"anullsrc=r={RATE}:cl=stereo,atrim=end_sample={total}[{name}_out]")
                labels[name] = f"{name}_out"
            continue
        if not want_mix and name not in outputs:
            continue
        bus(g, items, total, f"{name}_bus")
        duck = DUCK if name == "music" else BED_DUCK
        # the key padded, so the bus alone decides where the stem ends (to the sample)
        g.chains.append(f"[sc_{name}]apad[key_{name}]")
        g.chains.append(f"[{name}_bus][key_{name}]sidechaincompress={duck}[{name}_ducked]")
        uses = [*([f"{name}_mix"] if want_mix else []), *([f"{name}_out"] if name in outputs else [])]
        _split(g, f"{name}_ducked", uses)
        if name in outputs:
            labels[name] = f"{name}_out"
        if want_mix:
            mixed.append(f"{name}_mix")
    if want_mix:
        if len(mixed) == 1:
            g.chains.append("[dlg_mix]anull[mix]")
        else:  # an exact sum, every input to the film's end: amerge side by side, pan adds lefts and rights
            lefts = "+".join(f"c{2 * i}" for i in range(len(mixed)))
            rights = "+".join(f"c{2 * i + 1}" for i in range(len(mixed)))
            for m in mixed:  # padded, so the sum runs to the film's last sample whichever input ends first
                g.chains.append(f"[{m}]apad[{m}_p]")
            merged = "".join(f"[{m}_p]" for m in mixed)
            g.chains.append(
                f"{merged}amerge=inputs={len(mixed)},pan=stereo|c0={lefts}|c1={rights},atrim=end_sample={total}[mix]"
            )
        labels["mix"] = "mix"
    for name in STEMS:  # every stem exactly the film's length
        if name in labels:
            g.chains.append(f"[{labels[name]}]apad=whole_len={total},atrim=end_sample={total}[{name}_exact]")
            labels[name] = f"{name}_exact"
    return labels


def _split(g: Graph, label: str, uses: list[str]) -> None:
    """Feed ``label`` to each of ``uses`` (an asplit, or a plain rename for one)."""
    if len(uses) == 1:
        g.chains.append(f"[{label}]anull[{uses[0]}]")
    elif uses:
        g.chains.append(f"[{label}]asplit={len(uses)}{''.join(f'[{u}]' for u in uses)}")
