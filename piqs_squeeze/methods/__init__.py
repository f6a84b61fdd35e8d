"""piqs_squeeze.methods."""
