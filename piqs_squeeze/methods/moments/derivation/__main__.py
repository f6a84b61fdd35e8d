"""``python -m piqs_squeeze.methods.moments.derivation [2|3]``: print the derived moment equations of that order."""
import sys

from .equations import describe

print(describe(int(sys.argv[1]) if len(sys.argv) > 1 else 2))
