"""The methods, each a subpackage or module behind one registry (:mod:`piqs_squeeze.methods.registry`).

Importing this package imports no method; the registry loads one when it is first used.
"""
