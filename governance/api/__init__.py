"""The versioned REST API: the same permission rules and services as the pages."""
