"""What changed between two versions of a brief, from the typed model: the
comparison (compare.py), its sentences in each language (wording.py) and the
terminal text and JSON (report.py)."""
