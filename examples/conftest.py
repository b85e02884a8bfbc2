"""The codeflow pytest plugin for the example services' tests. A service of its own
declares it in its top-level conftest.py: pytest accepts `pytest_plugins` only there."""

pytest_plugins = ["codeflow.testing"]
