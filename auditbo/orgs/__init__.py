"""Registry: assessment and consulting bodies, their staff, and enterprises."""
