"""Briefing: structured YAML content to print-grade PDF, editable DOCX and
archival PDF/A briefing reports, all from one semantic HTML per edition.

The package reads in pipeline order:

- `content`: the only code that reads YAML; the typed, immutable model; checks
- `render`: an edition (one brief, language and document kind), its view for
  templates, the Jinja environment that turns it into HTML, figures, fonts
- `writers`: one module per output format, in one registry
- `build`: the orchestration: validate, plan, cache, workers, atomic output
- `archive`: published editions as BagIt bags, and their verification
- `cli`: the command line; `files`: where everything lives in a project
"""

__version__ = "0.1.0"
