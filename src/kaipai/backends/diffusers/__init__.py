"""The ``diffusers`` backend: keyframes, reference sheets and image-to-video on the user's GPU.

:mod:`.backend` is the backend; :mod:`.models` knows each model family's limits, :mod:`.runtime`
loads and keeps pipelines, :mod:`.prompts` and :mod:`.media` turn shots into inputs and outputs
into files. Importing this package does not import torch; the extra is checked when it is used.
"""
