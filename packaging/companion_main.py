"""The frozen program's entry point: the same as the ``companion`` console script."""

import sys

from companion.cli import entry

if __name__ == "__main__":
    sys.exit(entry())
