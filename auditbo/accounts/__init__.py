"""Users, roles, login, API tokens."""
