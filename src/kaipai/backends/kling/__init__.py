"""Kling (可灵): clips from keyframes (with end frames and references) and lip sync, through the Kling API."""

from kaipai.backends.kling.backend import KlingBackend
from kaipai.backends.kling.protocol import api_token

__all__ = ["KlingBackend", "api_token"]
