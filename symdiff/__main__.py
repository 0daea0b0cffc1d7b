"""``python -m symdiff``: the same command line as the ``symdiff`` script."""

from .api.cli import main

raise SystemExit(main())
