"""The Twilio REST API 2010-04-01 stand-in."""

from .app import Twilio
from .regions import REGIONS, region_from_host

__all__ = ["Twilio", "REGIONS", "region_from_host"]
