"""The build: validate everything, decide what is stale, render in limited
worker processes, write each brief's files all-or-nothing, remember.

`pipeline` is the recipe, `validate` the one validation every command runs,
`cache` the fingerprints, `workers` the process pool, `output` atomic writes
and the project lock, `progress` what the user sees, `watch` the editor loop.
"""
