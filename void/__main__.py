"""``python -m void ...`` = ``void ...``."""

import sys

from void.app.cli import main

if __name__ == "__main__":
    sys.exit(main())
