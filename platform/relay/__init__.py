"""The media relay: live video from an owner's bridge to a staff member's browser over WebRTC
(WHIP in, WHEP out), every publisher and viewer authorised by Canvass's /media/auth, per city.

Not a Django app: it imports neither Django nor the portal, and runs as `python -m relay`."""
