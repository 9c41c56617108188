"""How the bridge ends: its exit codes (the systemd unit reads them) and the error a person must
act on."""

EXIT_OK = 0
EXIT_UNUSABLE = 2  # configuration or state missing or wrong: a person must fix something
EXIT_REVOKED = 3  # the portal refused the credential: claim again (systemd does not restart)


class BridgeError(Exception):
    """Something a person must fix before the bridge can run; the message says what."""
