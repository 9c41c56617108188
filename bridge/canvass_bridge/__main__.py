"""`python -m canvass_bridge ...` is the same as the `canvass-bridge` command."""

import sys

from canvass_bridge.cli import main

sys.exit(main())
