"""``python -m imuback.cli``."""

import sys

from imuback.cli.main import main

sys.exit(main())
