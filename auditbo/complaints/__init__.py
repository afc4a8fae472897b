"""Complaints against bodies and persons."""
