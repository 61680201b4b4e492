"""The Great Expectations quality gate: suites as code, run on the unpublished build."""
