"""DashScope (Alibaba Cloud Model Studio, 百炼): Wan keyframes and clips, CosyVoice voices, lip sync."""

from kaipai.backends.dashscope.backend import DashScopeBackend

__all__ = ["DashScopeBackend"]
