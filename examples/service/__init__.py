"""A FastAPI service on `codeflow.Database` (README.md beside this file)."""
