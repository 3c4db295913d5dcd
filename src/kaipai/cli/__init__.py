"""The ``kaipai`` command line. Each area registers its commands from its own module."""

from __future__ import annotations

import importlib

from kaipai.cli.app import app, main

#: Command modules, in the order their commands appear in ``kaipai --help``.
COMMAND_MODULES = [
    "kaipai.cli.document",  # new, plan, shots, validate, schema, export shotlist
    "kaipai.cli.write",  # write (language-model screenplay)
    "kaipai.cli.render",  # render, status, takes, circle, retake
    "kaipai.cli.qc",  # qc
    "kaipai.cli.post",  # cut, export otio/fcpxml/…
    "kaipai.cli.publish",  # verify
    "kaipai.cli.demo",  # demo
    "kaipai.cli.backends",  # backends, backends check
    "kaipai.cli.studio",  # studio
]

for _name in COMMAND_MODULES:
    try:
        importlib.import_module(_name)
    except ModuleNotFoundError as _exc:  # an area not built yet; any other import error is a bug and surfaces
        if _exc.name != _name:
            raise

__all__ = ["app", "main"]
