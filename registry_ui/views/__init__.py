"""Reviewer pages, one module per page family."""
