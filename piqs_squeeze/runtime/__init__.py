"""piqs_squeeze.runtime."""
