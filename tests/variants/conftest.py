"""The variant tier (scripts/test variants) runs on the integration tier's lab fixtures: one lab per session."""

from tests.integration.conftest import lab, xdg_cache_home  # noqa: F401 - fixtures
