"""``python -m piqs_squeeze.derivation``: print the derived moment equations."""
from .equations import describe

print(describe())
