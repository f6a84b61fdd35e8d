"""piqs_squeeze.validation.checks."""
