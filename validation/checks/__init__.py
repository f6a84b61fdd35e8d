"""The validation checks, one module per method family; each module registers its checks with
:func:`piqs_squeeze.validation.registry.check` and imports only the registry, the shared cases,
the report helpers and the brute-force references."""
