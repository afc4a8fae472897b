"""Confirmation audits (确认审核) of AAA-and-above assessments."""
