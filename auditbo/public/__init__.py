"""Pages anyone may see without signing in (信息公开)."""
