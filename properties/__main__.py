"""`python -m properties`: the suite's command-line tools (properties.cli)."""

import sys

from properties.cli import main

sys.exit(main())
