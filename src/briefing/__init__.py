"""Briefing: structured YAML content to print-grade PDF and editable DOCX briefs."""

__version__ = "0.1.0"
