"""Which named queries count as writes for read-your-writes (codeflow/routing.py): a
write missed here would let the request that made it read a replica without it."""

from __future__ import annotations

import pytest

from codeflow.routing import is_write
from codeflow.store import all_queries

_WRITE_VERBS = ("create_", "update_", "delete_", "upsert_", "purge_", "prune_", "cleanup_", "verify_")
_READ_VERBS = ("get_", "list_", "count_", "explain_", "find_")


@pytest.mark.parametrize("name", sorted(all_queries()))
def test_every_query_is_classified_by_what_it_does(name: str) -> None:
    if name.startswith(_WRITE_VERBS):
        assert is_write(name), f"{name} changes rows: reads after it must see it"
    elif name.startswith(_READ_VERBS):
        assert not is_write(name), f"{name} only reads: it must not move the request's reads to the primary"
    else:
        pytest.fail(f"{name}: a verb this test does not know; add it to the writes or the reads")
