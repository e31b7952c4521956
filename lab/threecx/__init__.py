"""The 3CX v20 XAPI stand-in."""

from .app import SUPPORTED_VERSIONS, ThreeCX

__all__ = ["ThreeCX", "SUPPORTED_VERSIONS"]
