"""Archive editions: dated, immutable BagIt bags of PDF/A and DOCX, and the
proof that an archived file is the faithful build of its embedded source."""
