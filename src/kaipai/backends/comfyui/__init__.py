"""The ``comfyui`` backend: a user's ComfyUI server running their own workflows.

:mod:`.backend` is the backend, :mod:`.client` speaks ComfyUI's HTTP and WebSocket protocol,
:mod:`.workflow` reads workflows and fills in the shot's values.
"""
