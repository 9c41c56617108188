"""How a running Canvass reports on itself: health endpoints for probes (health.py), Prometheus
metrics (metrics.py), JSON logs with the request's context and no personal data (logs.py), and
Sentry (errors.py); the endpoints are answered before the tenant middleware (middleware.py)."""
