"""`python -m benchmarks.replay_metadata`: the benchmark's command line (benchmarks.replay_metadata.cli)."""

import sys

from benchmarks.replay_metadata.cli import main

sys.exit(main())
