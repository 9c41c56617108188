"""The project's PostgreSQL backend (base.DatabaseWrapper), which django-tenants' wraps."""
