"""Gunicorn settings for production: `gunicorn -c infra/gunicorn.conf.py canvass.wsgi`."""

import multiprocessing
import os

pythonpath = "platform"
bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
timeout = 30
# The TLS proxy in front sets X-Forwarded-Proto; trust it only from the proxy's address.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
