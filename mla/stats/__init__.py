"""Statistics and exports (SPEC §9): figures over the requests an organisation sees, as JSON and CSV."""
