"""The department console on a city's domain: staff, incidents, canvasses, the audit trail."""
