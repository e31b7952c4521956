"""Shared pytest set-up for every tier: the collection is importable by its FQCN."""

import sys

from tests.support.collection import collections_path

_path = str(collections_path())
if _path not in sys.path:
    sys.path.insert(0, _path)
