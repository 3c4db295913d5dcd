"""kaipai (开拍): an open-source AI film studio."""

__version__ = "0.1.0"
