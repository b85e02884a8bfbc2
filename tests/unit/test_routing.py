"""Which named queries count as writes for read-your-writes (codeflow/routing.py): a
write missed here would let the request that made it read a replica without it."""

from __future__ import annotations

import pytest

from codeflow.routing import UNSEEN_WRITES, is_write
from codeflow.store import all_queries

_WRITE_VERBS = ("create_", "update_", "delete_", "upsert_", "purge_", "prune_", "cleanup_", "verify_")
_READ_VERBS = ("get_", "list_", "count_", "explain_", "find_")


@pytest.mark.parametrize("name", sorted(all_queries()))
def test_every_query_is_classified_by_what_it_does(name: str) -> None:
    if name in UNSEEN_WRITES:
        assert not is_write(name), f"{name} writes nothing a read shows: it must not move reads"
    elif name.startswith(_WRITE_VERBS):
        assert is_write(name), f"{name} changes rows: reads after it must see it"
    elif name.startswith(_READ_VERBS):
        assert not is_write(name), f"{name} only reads: it must not move the request's reads to the primary"
    else:
        pytest.fail(f"{name}: a verb this test does not know; add it to the writes or the reads")


def test_the_activity_stamp_does_not_move_a_requests_reads_to_the_primary() -> None:
    """It runs on every request: counted as a write, the replica would serve almost nothing."""
    assert not is_write("update_user_profile_last_active")
