"""Sampling plans and spot checks (抽查)."""
