"""Content: YAML files read strictly, validated into one typed, immutable model.

`yamlsource` reads YAML (and nothing else does), `text` and `dates` are the
value types, `model` the records, `load` gathers a project, `diagnostics`
words pydantic's errors for editors, `checks` cross-checks the files,
`schema` exports JSON Schemas, `scaffold` writes a new brief.
"""
