import sys
from pathlib import Path

# The lab is importable without "pip install -e" when pytest runs from anywhere.
_ROOT = Path(__file__).resolve().parents[3]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))
