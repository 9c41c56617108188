"""The Canvass bridge: reads the owner's cameras on the owner's network and, only when the city's
Canvass portal asks for one, publishes it to the media relay. It connects outbound only."""

__version__ = "0.1.0"
