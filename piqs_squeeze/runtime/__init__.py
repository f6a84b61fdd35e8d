"""How the code runs on a machine (no physics): thread policy, worker processes, provenance of
results, resource guards and crash-safe files."""
