"""Where each shot's dialogue is lip-synced, decided before the graph is built.

Three routes, from the document's backend choices and the video model's sheet:

- the video model animates the voice itself (its sheet says ``audio_input``): the clip is given
  the shot's dialogue track and comes back lip-synced, so no lipsync node follows it;
- a previz clip, or any clip with a lip-sync backend named in the document: a lipsync node;
- a clip from a real video model with only the previz lip sync to hand: previz draws cartoon
  mouths on its own animatic frames only, so the clip is used as it is and the render and
  ``kaipai status`` say that its dialogue is not lip-synced.
"""

from __future__ import annotations

from collections.abc import Callable

from kaipai.backends.base import CapabilitySheet
from kaipai.document.backend_choice import BackendChoice
from kaipai.document.models import Document
from kaipai.document.shots import Shot
from kaipai.engine.graph import ShotRoute

PREVIZ = "previz"


def label(choice: BackendChoice) -> str:
    return choice.use + (f":{choice.model}" if choice.model else "")


def lipsync_routes(doc: Document, video_sheet: Callable[[Shot], CapabilitySheet | None]) -> dict[str, ShotRoute]:
    """The route of every shot with a line spoken on screen whose route is not the plain lipsync node.

    ``video_sheet`` gives the sheet of the shot's video model, or None when it cannot be had
    (a backend that is not set up: its clip is blocked anyway, with that reason).
    """
    routes: dict[str, ShotRoute] = {}
    for shot in doc.shots:
        if not shot.speakers_on_screen:
            continue
        video = doc.backend_for("video", shot)
        if video.use == PREVIZ:
            continue
        sheet = video_sheet(shot)
        if sheet is not None and sheet.audio_input:
            routes[shot.id] = ShotRoute(lipsync=False, clip_hears=True)
        elif doc.backend_for("lipsync", shot).use == PREVIZ:
            routes[shot.id] = ShotRoute(
                lipsync=False,
                note=(
                    f"dialogue is not lip-synced: the clip comes from {label(video)}, and the previz lip sync "
                    "draws only on previz clips; name a lip-sync backend under backends.lipsync "
                    "(or a video model that takes the voice) to sync it"
                ),
            )
    return routes
