"""The film's sound as one filtergraph: dialogue placed to the sample, music ducked under it.

Lines are laid end to end on "lanes" (silence between them), so the cost grows with the length of
the film, not with lines × length as it would if every line were delayed and mixed over the whole
film. Lines that overlap (one speaker cutting into another) go on a second lane.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kaipai.post.cut import Cut
from kaipai.post.ffmpeg import Graph

RATE = 48000
FORMAT = f"aresample={RATE},aformat=sample_fmts=fltp:channel_layouts=stereo"
MUSIC_LEVEL = 0.5
#: the dialogue level at which music starts ducking, and how hard
DUCK = "threshold=0.02:ratio=10:attack=15:release=350:makeup=1"


@dataclass
class Placed:
    path: Path
    start: int  # samples from the start of the film
    length: int  # samples it occupies
    fade_out: int = 0  # samples of fade at its end
    volume: float = 1.0


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
        k = g.add_input("-i", str(item.path))
        chain = [FORMAT, f"atrim=end_sample={length}"]
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
    return [
        Placed(line.path, samples(line.start), max(1, samples(line.end) - samples(line.start))) for line in cut.lines
    ]


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


def audio_chain(g: Graph, cut: Cut, music: dict[int, Path]) -> tuple[str, str, str]:
    """Dialogue, music (ducked under it) and their mix for the whole film; returns (dialogue, music, mix) labels."""
    total = max(1, samples(cut.duration))
    bus(g, dialogue_items(cut), total, "dlg")
    cues = music_items(cut, music)
    if not cues:
        g.chains.append("[dlg]asplit=2[dlg_mix][dlg_out]")
        g.chains.append(f"anullsrc=r={RATE}:cl=stereo,atrim=end_sample={total}[mus_out]")
        return "dlg_out", "mus_out", "dlg_mix"
    bus(g, cues, total, "mus")
    g.chains.append("[dlg]asplit=3[dlg_mix][dlg_sc][dlg_out]")
    g.chains.append(f"[mus][dlg_sc]sidechaincompress={DUCK}[ducked]")
    g.chains.append("[ducked]asplit=2[mus_mix][mus_out]")
    g.chains.append("[dlg_mix][mus_mix]amix=inputs=2:normalize=0:duration=first[mix]")
    return "dlg_out", "mus_out", "mix"
