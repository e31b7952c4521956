"""The variant tier (scripts/test variants) runs on the integration tier's lab fixtures: one lab per session."""

from tests.integration.conftest import lab, xdg_cache_home

__all__ = ["lab", "xdg_cache_home"]  # pytest fixtures, found here by name
