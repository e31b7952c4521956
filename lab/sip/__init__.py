"""The lab's SIP leg: a real INVITE from the PBX to the Twilio SIP Domain, on loopback.

sipp plays 3CX (the UAC, from the PBX's public IP), Kamailio plays the Twilio SIP Domain (the
UAS, what the Twilio stand-in's domain admits). See docs/lab.md, *SIP leg*.
"""

from .leg import CallResult, SipLeg, parse_sip_host
from .tools import missing_binaries, missing_message
from .uac import Invite, Party

__all__ = ["CallResult", "Invite", "Party", "SipLeg", "missing_binaries", "missing_message", "parse_sip_host"]
