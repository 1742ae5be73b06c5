"""``python -m dr_infra up``: see :mod:`dr_infra.cli`."""

import sys

from .cli import main

sys.exit(main())
