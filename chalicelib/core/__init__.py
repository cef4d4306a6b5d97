"""Cross-cutting concerns shared by every domain: config, errors, HTTP edge, security, data access."""
