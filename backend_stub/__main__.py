"""``python -m backend_stub``: the core's command line (``backend_stub.cli.main``)."""

import sys

from backend_stub.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
