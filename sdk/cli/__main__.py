"""``python -m etalage.cli``: the ``etalage`` command."""

import sys

from etalage.cli import main

sys.exit(main())
