"""Archive editions: dated, immutable BagIt 1.0 bags of PDF/A and DOCX in
archive/, sealed when the organisation has a key, and the proof that an
archived file is the faithful build of its embedded source (docs/archive.md)."""
