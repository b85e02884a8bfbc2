"""The developer and deploy tools: the `codeflow-db` CLI, migrations (dbmate), the local
database servers, seed fixtures, the SQL checks and code generation.

Installed with the `cli` extra (`pip install 'codeflow-db[cli]'`); the pytest plugin
`codeflow.testing` (the `testing` extra) builds on it. No runtime module of `codeflow`
imports anything here: `make lint` enforces it (import-linter, pyproject.toml).
"""
