"""A department that does not exist yet: the provisioning tests' valid input."""

SPRINGFIELD = {
    "subdomain": "springfield",
    "name": "Springfield Police Department",
    "city": "Springfield",
    "state": "IL",
    "time_zone": "America/Chicago",
    "display_name": "Springfield Camera Registry",
    "center_latitude": 39.7817,
    "center_longitude": -89.6501,
    "service_radius_m": 15_000,
    "administrator_email": "chief@springfield.example.org",
    "administrator_password": "a-long-enough-passphrase",
}
