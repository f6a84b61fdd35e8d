"""piqs_squeeze.methods.exact."""
