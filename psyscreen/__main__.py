"""``python -m psyscreen`` is the ``psyscreen`` command."""

import sys

from psyscreen.cli import main

sys.exit(main())
