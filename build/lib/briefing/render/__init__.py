"""Rendering: one semantic HTML per brief and language, then two writers."""
