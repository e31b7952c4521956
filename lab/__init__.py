"""Local HTTPS stand-ins for the Twilio REST API and the 3CX XAPI.

The lab is a stranger to the collection: it imports nothing from
``plugins/`` and is reached only over HTTP(S).
"""

__version__ = "0.1.0"
