"""Services built on the codeflow package, kept in the repository so they run in CI."""
