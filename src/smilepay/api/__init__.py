"""FastAPI entry point: routes, schemas, auth, the one error-to-HTTP table."""
