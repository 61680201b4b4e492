"""The foundation every layer stands on, importing none of them: settings (IBET_HOME, key,
audiences), the agency registry, the domain's vocabulary, reference data, lake I/O, keys and
pseudonyms, export helpers and logging.

Layers, top to bottom (import-linter keeps them so: ``pyproject.toml``, ``make test``):
``dags`` -> ``ibet`` (application: CLI, orchestration, ingest, generator, benchmarks) ->
``warehouse`` -> ``transforms`` -> ``contracts`` -> ``foundation``.
"""
