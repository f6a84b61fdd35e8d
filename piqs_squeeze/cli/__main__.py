"""``python -m piqs_squeeze.cli`` is the ``piqs-squeeze`` command."""
import sys

from . import main

sys.exit(main())
