"""Assessment results filed by assessment bodies, and their life cycle."""
