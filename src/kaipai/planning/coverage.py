"""Film grammar for one scene: the coverage a storyboard artist would draw.

An establishing shot when the film arrives somewhere new; dialogue covered with a
two-shot, then shot/reverse-shot (over the shoulder, singles) that keep every character
on the same side of the 180° line for the whole scene; close-ups and a push-in on
emotional lines, a reaction after them; inserts of what the action handles; 空镜
cutaways and 字幕 captions as their own shots. An action that only says "she" frames the
people last seen; the same frame is never cut to itself. Every dialogue line lands in
exactly one shot, with an id that belongs to the scene (``S03-L4``), so re-cutting keeps
its voice take.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kaipai.document.models import Document
from kaipai.document.scenes import IntExt, Scene
from kaipai.document.shots import (
    Angle,
    CameraMove,
    Delivery,
    Depth,
    Facing,
    Placement,
    ScreenThird,
    Shot,
    ShotKind,
    ShotSize,
    Transition,
)
from kaipai.document.vocabulary import LENS
from kaipai.planning.beats import (
    Beat,
    SpokenLine,
    heading_subject,
    montage_items,
    read_beats,
    title_card,
    transition_of,
)
from kaipai.planning.lexicon import camera_move_for_action, is_small_object, objects_in
from kaipai.planning.names import NARRATOR_ID, has_cjk, is_narrator, name_index, normalize_name, slugify
from kaipai.planning.prompts import SceneWords, describe, first_sentences, image_prompt, video_prompt
from kaipai.planning.sound import effects_in
from kaipai.planning.timing import action_seconds, caption_seconds, shot_dialogue_seconds

#: Longest shot of a montage: it moves on.
MONTAGE_SECONDS = 3.0
#: Shot kinds whose length is the length of their dialogue.
DIALOGUE_KINDS = frozenset({ShotKind.single, ShotKind.ots, ShotKind.two_shot, ShotKind.group, ShotKind.reaction})
_VISUAL_KINDS = frozenset({ShotKind.establishing, ShotKind.action, ShotKind.cutaway, ShotKind.insert})
#: Dialogue shots between two reaction shots, at least: reactions punctuate, they do not pad.
_REACTION_SPACING = 3
#: Words that point at someone already on screen ("she hands him the envelope", "他沉默了").
_PRONOUN = re.compile(r"\b(?:he|she|they|him|her|them|his|hers|their)\b|他|她", re.I)
#: The size to cut to instead of repeating a frame: one step tighter, or wider at the tight end.
_VARIATION = {
    ShotSize.EWS: ShotSize.WS, ShotSize.WS: ShotSize.LS, ShotSize.LS: ShotSize.WS, ShotSize.MLS: ShotSize.MS,
    ShotSize.MS: ShotSize.MCU, ShotSize.MCU: ShotSize.CU, ShotSize.CU: ShotSize.MCU, ShotSize.ECU: ShotSize.CU,
}  # fmt: skip
_INSERT_VARIATION = _VARIATION | {ShotSize.CU: ShotSize.ECU, ShotSize.ECU: ShotSize.CU}
_SIDES = [(ScreenThird.left, Facing.right), (ScreenThird.right, Facing.left), (ScreenThird.center, Facing.camera)]


@dataclass
class _Draft:
    kind: ShotKind
    size: ShotSize
    angle: Angle = Angle.eye
    move: CameraMove = CameraMove.static
    composition: list[Placement] = field(default_factory=list)
    action: str = ""
    lines: list[SpokenLine] = field(default_factory=list)
    sfx: list[str] = field(default_factory=list)
    music: str = ""
    caption: str = ""
    props: list[str] = field(default_factory=list)
    subject: str = ""
    transition: Transition = Transition.cut
    transition_duration: float = 0.5
    visual_seconds: float = 0.0

    @property
    def on_screen_speakers(self) -> set[str]:
        return {ln.line.speaker for ln in self.lines if ln.line.delivery == Delivery.on}


class ScenePlanner:
    """Plans one scene. Use :func:`plan_scene`; the class only holds the scene's running state."""

    def __init__(self, doc: Document, scene: Scene) -> None:
        self.doc, self.scene = doc, scene
        self.words = SceneWords.of(doc, scene)
        self.index = name_index(tuple((c.id, c.name, tuple(c.aliases)) for c in doc.cast.characters))
        self.not_objects = (
            *(c.name for c in doc.cast.characters),
            *(a for c in doc.cast.characters for a in c.aliases),
            self.words.place,
        )
        self.drafts: list[_Draft] = []
        self.sides: dict[str, tuple[ScreenThird, Facing]] = {}
        self.recent_speakers: list[str] = []
        #: Who has been seen or heard on screen so far; a two-shot never shows someone before they arrive.
        self.appeared: dict[str, None] = {}
        #: Who was last seen or heard on screen, most recent last: whom "she" and "他" point at.
        self.recent_people: list[str] = []
        self.dialogue_shots = 0
        self.last_reaction = -_REACTION_SPACING
        self.pending = Transition.cut
        self.pending_music = ""
        self.last_beat = ""

    # ------------------------------------------------------------------ reading the scene

    def speaker_id(self, raw: str) -> str:
        if is_narrator(raw) or not normalize_name(raw):  # a cue with no name in it is an unnamed voice
            return NARRATOR_ID
        return self.index.resolve(raw) or slugify(normalize_name(raw))

    def beats(self) -> list[Beat]:
        return read_beats(self.doc, self.scene, self.speaker_id)

    def pov_holders(self) -> list[str]:
        """The characters a POV heading names (JOHN'S POV): we see with their eyes, not them."""
        subject = heading_subject(self.scene)
        return self.index.mentioned(subject) if subject else []

    def assign_sides(self, beats: list[Beat]) -> None:
        """The first two speakers take the left and right thirds facing each other; the rest follow."""
        order: dict[str, None] = {}
        for b in beats:
            if b.line and b.line.line.delivery == Delivery.on and b.line.line.speaker != NARRATOR_ID:
                order.setdefault(b.line.line.speaker, None)
        for cid in self.scene.characters:
            order.setdefault(cid, None)
        for b in beats:
            if b.kind == "action":
                for cid in self.index.mentioned(b.text):
                    order.setdefault(cid, None)
        for cid in order:
            self.side(cid)
        shown = {b.line.line.speaker for b in beats if b.line} | {
            c for b in beats if b.kind == "action" for c in self.index.mentioned(b.text)
        }
        for cid in self.scene.characters:
            if cid not in shown:  # declared for the scene (人物：…) but never named again: there all along
                self.appeared.setdefault(cid, None)

    def side(self, cid: str) -> tuple[ScreenThird, Facing]:
        if cid not in self.sides:
            n = len(self.sides)
            self.sides[cid] = _SIDES[n] if n < 3 else _SIDES[(n - 3) % 2]
        return self.sides[cid]

    def place(self, cid: str, depth: Depth = Depth.midground, facing: Facing | None = None) -> Placement:
        third, face = self.side(cid)
        return Placement(character=cid, third=third, depth=depth, facing=facing or face)

    def listener_for(self, speaker: str) -> str | None:
        for cid in reversed(self.recent_speakers):
            if cid != speaker:
                return cid
        return next((c for c in self.appeared if c != speaker and c != NARRATOR_ID), None)

    def new_location(self) -> bool:
        """Whether the film arrives somewhere new here (a POV or an insert between two scenes in one
        place does not leave it)."""
        if self.scene.kind != "scene":
            return False
        scenes = self.doc.scenes
        i = next((k for k, s in enumerate(scenes) if s.id == self.scene.id), 0)
        here = self.scene.location or self.words.place
        if not here:
            return False
        prev = next((s for s in reversed(scenes[:i]) if s.kind not in ("pov", "insert")), None)
        return prev is None or (prev.location or SceneWords.of(self.doc, prev).place) != here

    def carried_transition(self) -> Transition:
        """A transition that ends the previous scene opens this one (DISSOLVE TO:, FADE OUT. → fade in)."""
        scenes = self.doc.scenes
        i = next((k for k, s in enumerate(scenes) if s.id == self.scene.id), 0)
        if i == 0:
            return Transition.cut
        for el in reversed(scenes[i - 1].elements):
            kind = el.type
            if kind == "transition":
                t = transition_of(el.text)
                return Transition.fade_in if t == Transition.fade_out else t
            if kind in ("action", "dialogue", "caption", "cutaway", "centered", "lyric"):
                break
        return Transition.cut

    # ------------------------------------------------------------------ drafting shots

    def add(self, draft: _Draft) -> _Draft:
        _no_jump_cut(self.drafts[-1] if self.drafts else None, draft)
        if self.pending != Transition.cut:
            draft.transition = self.pending
            draft.transition_duration = 1.0 if self.pending in (Transition.dissolve, Transition.fade_in) else 0.5
            self.pending = Transition.cut
        if self.pending_music:
            draft.music, self.pending_music = self.pending_music, ""
        self.drafts.append(draft)
        return draft

    def establishing(self, opening: str) -> None:
        exterior = self.scene.int_ext == IntExt.EXT
        people = list(self.index.mentioned(opening)) if opening else []
        self.add(
            _Draft(
                kind=ShotKind.establishing,
                size=ShotSize.EWS if exterior else ShotSize.WS,
                angle=Angle.high if exterior else Angle.eye,
                move=CameraMove.pan_right,
                composition=[self.place(c, Depth.background) for c in people],
                action=opening,
                sfx=effects_in(opening, self.doc.project.language.value),
                visual_seconds=max(3.0, action_seconds(opening, base=2.5, high=6.0)) if opening else 3.0,
            )
        )

    def action(self, text: str, *, shown: bool = True, pov: bool = False, montage: bool = False) -> None:
        """A shot of what the action shows (and inserts of what it handles). Through someone's
        eyes (``pov``) they are not in the frame; in a ``montage`` each line is one short shot."""
        people = self.index.mentioned(text) or self.referred_to(text)
        if pov:
            holders = self.pov_holders()
            people = [c for c in people if c not in holders]
        for cid in people:
            self.appeared.setdefault(cid, None)
            self._seen(cid)
        move = camera_move_for_action(text)
        if shown:
            n = len(people)
            if n == 0:
                kind, size = ShotKind.action, ShotSize.WS if self.scene.int_ext == IntExt.EXT else ShotSize.LS
            elif n == 1:
                kind, size = ShotKind.action, ShotSize.LS if move != CameraMove.static else ShotSize.MS
            elif n == 2:
                kind, size = ShotKind.two_shot, ShotSize.MLS if move != CameraMove.static else ShotSize.MS
            else:
                kind, size = ShotKind.group, ShotSize.WS if move != CameraMove.static else ShotSize.LS
            depths = [Depth.midground, Depth.midground]
            comp = [self.place(c, depths[i] if i < 2 else Depth.background) for i, c in enumerate(people)]
            self.add(
                _Draft(
                    kind=ShotKind.action if pov else kind,
                    size=size,
                    angle=Angle.pov if pov else Angle.eye,
                    move=move,
                    composition=comp,
                    action=text,
                    sfx=effects_in(text, self.doc.project.language.value),
                    subject=heading_subject(self.scene) if pov else "",
                    visual_seconds=min(action_seconds(text), MONTAGE_SECONDS) if montage else action_seconds(text),
                )
            )
        if montage:
            return  # a montage moves on: no inserts between its shots
        for subject, prop in self.objects(text, people)[:2]:
            small = is_small_object(subject)
            self.add(
                _Draft(
                    kind=ShotKind.insert,
                    size=ShotSize.ECU if small else ShotSize.CU,
                    angle=Angle.high if small else Angle.eye,
                    props=[prop] if prop else [],
                    subject=subject,
                    visual_seconds=2.0,
                )
            )

    def insert_heading(self, text: str) -> None:
        """An INSERT heading: a close detail of what it names, with the action that describes it."""
        named = heading_subject(self.scene)
        subject = (named if has_cjk(named) else named.lower()) or next(
            (o for o, _ in self.objects(text, [])), first_sentences(text, 1)
        )
        small = is_small_object(subject)
        self.add(
            _Draft(
                kind=ShotKind.insert,
                size=ShotSize.ECU if small else ShotSize.CU,
                angle=Angle.high if small else Angle.eye,
                action=text,
                subject=subject,
                sfx=effects_in(text, self.doc.project.language.value),
                visual_seconds=action_seconds(text, base=2.0, low=2.0, high=5.0) if text else 2.0,
            )
        )

    def referred_to(self, text: str) -> list[str]:
        """Who an action that names nobody means by its pronouns: the (at most two) people last on screen.

        Both are framed when two are there, so whichever "he" is meant is in the shot.
        """
        if not _PRONOUN.search(text):
            return []
        recent = [c for c in self.recent_people if c in self.appeared]
        return sorted(recent[-2:], key=lambda c: list(self.sides).index(c) if c in self.sides else 99)

    def objects(self, text: str, people: list[str]) -> list[tuple[str, str | None]]:
        """Things to insert: the cast's props named here; without cast props, objects the action handles."""
        props = self.doc.cast.props
        if props:
            hits = []
            for p in props:
                for form in (p.name, p.id):
                    pos = text.find(form) if has_cjk(form) else _find_word(text, form)
                    if pos >= 0:
                        hits.append((pos, p.name, p.id))
                        break
            return [(name, pid) for _, name, pid in sorted(hits)]
        return [(o, None) for o in objects_in(text, self.not_objects)]

    def cutaway(self, text: str, *, opening: bool) -> None:
        exterior = self.scene.int_ext == IntExt.EXT
        self.add(
            _Draft(
                kind=ShotKind.cutaway,
                size=ShotSize.EWS if exterior and opening else ShotSize.WS,
                move=CameraMove.pan_right if opening else CameraMove.static,
                subject=text,
                sfx=effects_in(text, self.doc.project.language.value),
                visual_seconds=action_seconds(text, base=2.5, low=2.5, high=5.0),
            )
        )

    def caption(self, text: str) -> None:
        self.add(_Draft(kind=ShotKind.caption, size=ShotSize.WS, caption=text, visual_seconds=caption_seconds(text)))

    def dialogue(self, ln: SpokenLine, following: Beat | None) -> None:
        d = ln.line
        last = self.drafts[-1] if self.drafts else None
        if ln.inner and d.speaker != NARRATOR_ID:
            self.thought(ln, last)
            return
        if d.delivery != Delivery.on:
            listener = None
            if d.delivery == Delivery.os:  # whoever hears it, even if they have not been seen yet
                listener = self.listener_for(d.speaker) or next(
                    (c for c in self.sides if c not in (d.speaker, NARRATOR_ID)), None
                )
                if listener is not None:
                    self.appeared.setdefault(listener, None)
            if listener is not None:  # off screen: we watch the one who hears it
                self.add(
                    _Draft(kind=ShotKind.reaction, size=ShotSize.MCU, composition=[self.place(listener)], lines=[ln])
                )
            elif last is not None and last.kind in _VISUAL_KINDS and not last.on_screen_speakers:
                last.lines.append(ln)  # a voice over the picture already there
            elif (
                last is not None
                and self.last_beat == "dialogue"
                and last.lines
                and all(x.line.speaker == d.speaker and x.line.delivery == Delivery.vo for x in last.lines)
            ):
                last.lines.append(ln)  # the same voice goes on
            elif d.speaker in self.appeared and d.speaker != NARRATOR_ID:  # their thoughts: we watch them, silent
                self.add(
                    _Draft(kind=ShotKind.single, size=ShotSize.CU, composition=[self.place(d.speaker)], lines=[ln])
                )
                self._seen(d.speaker)
            else:
                self.cutaway("", opening=False)
                self.drafts[-1].lines.append(ln)
            return
        speaker = d.speaker
        if (
            last is not None
            and self.last_beat == "dialogue"
            and last.kind in DIALOGUE_KINDS
            and (ln.dual or last.on_screen_speakers == {speaker})
        ):
            if ln.dual and speaker not in last.on_screen_speakers:  # dual dialogue: both at once, in one frame
                both = sorted(
                    {*last.on_screen_speakers, speaker},
                    key=lambda c: list(self.sides).index(c) if c in self.sides else 99,
                )
                last.kind, last.size, last.angle, last.move = (
                    ShotKind.two_shot,
                    ShotSize.MS,
                    Angle.eye,
                    CameraMove.static,
                )
                last.composition = [self.place(c) for c in both]
                # The shot before may already be this two-shot (the pair spoke at once there too).
                _no_jump_cut(self.drafts[-2] if len(self.drafts) > 1 else None, last)
            last.lines.append(ln)
            self._remember(speaker)
            return
        self.appeared.setdefault(speaker, None)
        listener = self.listener_for(speaker)
        present = [c for c in self.appeared if c != NARRATOR_ID]
        n = self.dialogue_shots
        if (
            n == 0
            and listener is not None
            and last is not None
            and self.last_beat == "action"
            and last.kind in (ShotKind.two_shot, ShotKind.group)
            and not last.lines
        ) and {speaker, listener} <= {p.character for p in last.composition}:  # they speak in the shot that shows them
            last.lines.append(ln)
            self.dialogue_shots += 1
            self._remember(speaker)
            return
        if n == 0 and listener is not None and len(present) >= 3:
            draft = _Draft(
                kind=ShotKind.group,
                size=ShotSize.LS,
                composition=[
                    self.place(c, Depth.midground if i < 2 else Depth.background) for i, c in enumerate(present)
                ],
            )
        elif n == 0 and listener is not None:
            pair = sorted([speaker, listener], key=lambda c: list(self.sides).index(c))
            draft = _Draft(kind=ShotKind.two_shot, size=ShotSize.MS, composition=[self.place(c) for c in pair])
        elif ln.emotional:
            draft = _Draft(
                kind=ShotKind.single, size=ShotSize.CU, move=CameraMove.push_in, composition=[self.place(speaker)]
            )
        elif (
            listener is not None and n % 2 == 1 and self.side(listener)[0] != self.side(speaker)[0]
        ):  # over a shoulder on the other side
            draft = _Draft(
                kind=ShotKind.ots,
                size=ShotSize.MCU,
                angle=Angle.ots,
                composition=[self.place(speaker), self.place(listener, Depth.foreground, Facing.away)],
            )
        else:
            draft = _Draft(
                kind=ShotKind.single, size=ShotSize.MS if n == 0 else ShotSize.MCU, composition=[self.place(speaker)]
            )
        draft.lines.append(ln)
        self.add(draft)
        self.dialogue_shots += 1
        self._remember(speaker)
        if ln.emotional and listener is not None and self.dialogue_shots - self.last_reaction >= _REACTION_SPACING:
            answers = following is not None and following.line is not None and following.line.line.speaker == listener
            if not answers:
                self.add(
                    _Draft(
                        kind=ShotKind.reaction, size=ShotSize.CU, composition=[self.place(listener)], visual_seconds=1.5
                    )
                )
                self.last_reaction = self.dialogue_shots

    def thought(self, ln: SpokenLine, last: _Draft | None) -> None:
        """The speaker's inner voice: we watch them, lips still, while we hear it.

        It stays on the shot already showing them alone (an action, a single, a reaction, their
        thought going on), else it gets a close-up of its own.
        """
        speaker = ln.line.speaker
        self.appeared.setdefault(speaker, None)
        if (
            last is not None
            and [p.character for p in last.composition] == [speaker]
            and not last.on_screen_speakers
            and last.kind in (ShotKind.single, ShotKind.action, ShotKind.reaction)
        ):
            last.lines.append(ln)
        else:
            self.add(_Draft(kind=ShotKind.single, size=ShotSize.CU, composition=[self.place(speaker)], lines=[ln]))
        self._seen(speaker)

    def _remember(self, speaker: str) -> None:
        if speaker in self.recent_speakers:
            self.recent_speakers.remove(speaker)
        self.recent_speakers.append(speaker)
        self._seen(speaker)

    def _seen(self, cid: str) -> None:
        if cid == NARRATOR_ID:
            return
        if cid in self.recent_people:
            self.recent_people.remove(cid)
        self.recent_people.append(cid)

    def transition(self, text: str) -> None:
        t = transition_of(text)
        if t == Transition.fade_out:
            if self.drafts:
                self.drafts[-1].transition = Transition.fade_out
                self.drafts[-1].transition_duration = 1.0
            self.pending = Transition.fade_in
        elif t != Transition.cut:
            self.pending = t

    # ------------------------------------------------------------------ the plan

    def plan(self) -> list[Shot]:
        beats = self.beats()
        self.assign_sides(beats)
        self.pending = self.carried_transition()
        content = [b for b in beats if b.kind in ("action", "dialogue", "caption", "cutaway")]
        first = content[0] if content else None
        leading = beats[: next(i for i, b in enumerate(beats) if b is first)] if first is not None else beats
        before_first = {id(b) for b in leading}
        for beat in leading:  # "FADE IN:" before anything is seen opens the first shot, establishing included
            if beat.kind == "transition":
                self.transition(beat.text)
        absorbed: Beat | None = None
        if self.new_location() and (first is None or first.kind != "cutaway"):
            absorbed = first if first is not None and first.kind == "action" else None
            self.establishing(absorbed.text if absorbed else "")
        elif self.scene.kind == "title":
            self.caption(title_card(self.doc, self.scene))
        elif self.scene.kind == "insert":
            absorbed = first if first is not None and first.kind == "action" else None
            self.insert_heading(absorbed.text if absorbed else "")
        elif self.scene.kind == "pov" and first is None:
            self.action("", pov=True)
        for i, beat in enumerate(beats):
            following = next(
                (b for b in beats[i + 1 :] if b.kind in ("action", "dialogue", "caption", "cutaway")), None
            )
            if beat.kind == "transition":
                if id(beat) not in before_first:
                    self.transition(beat.text)
                continue
            if beat.kind == "music":
                if self.drafts and not self.drafts[-1].music:
                    self.drafts[-1].music = beat.text
                else:
                    self.pending_music = beat.text
                continue
            if beat is absorbed and self.scene.kind == "insert":
                pass  # the insert already shows what it describes
            elif beat.kind == "action" and self.scene.kind == "montage":
                for item in montage_items(beat.text):
                    self.action(item, montage=True)
            elif beat.kind == "action":
                self.action(beat.text, shown=beat is not absorbed, pov=self.scene.kind == "pov")
            elif beat.kind == "cutaway":
                self.cutaway(beat.text, opening=beat is first and self.new_location())
            elif beat.kind == "caption":
                self.caption(beat.text)
            elif beat.kind == "dialogue" and beat.line is not None:
                self.dialogue(beat.line, following)
            self.last_beat = beat.kind
        return [self.finish(k, d) for k, d in enumerate(self.drafts)]

    def finish(self, k: int, d: _Draft) -> Shot:
        if d.lines:  # long enough for its lines, and for the action it also shows
            duration = max(d.visual_seconds, shot_dialogue_seconds([ln.line for ln in d.lines]))
        else:
            duration = max(d.visual_seconds, 1.5)
        shot = Shot(
            id=f"{self.scene.id}-{k + 1:03d}",
            scene=self.scene.id,
            order=(k + 1) * 10,
            kind=d.kind,
            size=d.size,
            angle=d.angle,
            move=d.move,
            lens=LENS[d.size],
            composition=d.composition,
            action=d.action,
            lighting=self.words.lighting,
            dialogue=[ln.line for ln in d.lines],
            sfx=d.sfx,
            music=d.music,
            caption=d.caption,
            props=d.props,
            transition=d.transition,
            transition_duration=d.transition_duration,
            duration=duration,
            duration_source="estimate",
        )
        words = {
            "description": describe(shot, self.words, d.subject),
            "image_prompt": image_prompt(shot, self.words, d.subject),
            "video_prompt": video_prompt(shot, self.words, d.subject),
        }
        return shot.model_copy(update=words)


def _no_jump_cut(before: _Draft | None, draft: _Draft) -> None:
    """The same frame twice is a jump cut: a storyboard artist changes the size of the second."""
    if before is not None and draft.kind != ShotKind.caption and _framing(before) == _framing(draft):
        draft.size = (_INSERT_VARIATION if draft.kind == ShotKind.insert else _VARIATION)[draft.size]


def _framing(d: _Draft) -> tuple[object, ...]:
    return (d.kind, d.size, d.angle, d.move, [(p.character, p.third, p.depth, p.facing) for p in d.composition])


def _find_word(text: str, word: str) -> int:
    m = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.I)
    return m.start() if m else -1


def plan_scene_shots(doc: Document, scene: Scene) -> list[Shot]:
    """Coverage for one scene; ids ``<scene-id>-001``…, ``order`` in steps of 10 within the scene."""
    return ScenePlanner(doc, scene).plan()
