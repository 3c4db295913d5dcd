"""The ``minimax`` backend: Hailuo clips and MiniMax voices (with voice cloning).

:mod:`.backend` is the backend; :mod:`.api` speaks MiniMax's v1 protocol (one host, one key, the
``base_resp`` error codes), :mod:`.voices` picks and clones voices.
"""
