"""The Canvass Django project: settings, URL configurations and the WSGI/ASGI entry points."""
