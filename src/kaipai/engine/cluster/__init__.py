"""Rendering on a Ray cluster (the ``ray`` extra): backends in warm actors, the driver owning the truth.

Imported only when a render chooses ``executor: ray``; nothing else in kaipai imports Ray.
"""
