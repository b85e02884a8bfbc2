"""CodeFlow benchmarks: `python -m bench --help`. Not part of the installed package."""
