"""piqs_squeeze.methods.mcwf."""
