"""The signed-in home page: what needs attention, by role."""
