"""``python -m fuzzer``: see :mod:`fuzzer.cli`."""

import sys

from fuzzer.cli import main

sys.exit(main())
