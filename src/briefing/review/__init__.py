"""`briefing review`: an official's returned DOCX read back field by field.

`returned` reads the file (its edition map, content controls, bookmarks,
tracked changes and comments, as Word or LibreOffice left them), `edition`
renders the same edition from the current YAML, `compare` says what changed
where, `report` writes it for the editor, and `apply` writes the accepted
text into the YAML (docs/review.md).
"""
