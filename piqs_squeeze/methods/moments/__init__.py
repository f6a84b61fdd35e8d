"""piqs_squeeze.methods.moments."""
