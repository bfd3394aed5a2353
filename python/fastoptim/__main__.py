"""``python -m fastoptim``: the ``fastoptim`` command without its console script."""

import sys

from .cli import main

sys.exit(main())
