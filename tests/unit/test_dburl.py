"""The one PostgreSQL URL parser: it reads a URL as libpq and asyncpg both do, refuses
what they would read differently (or not at all), judges every host, and never quotes
a URL in an error or shows a password in a redacted one."""

from __future__ import annotations

import os
from typing import Any
from unittest import mock

import pytest
from asyncpg import connect_utils
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg.conninfo import conninfo_to_dict

from codeflow import ConfigurationError, dburl, load_settings
from codeflow.dburl import Host, MalformedURL
from codeflow.pool import pool_options
from codeflow.tools import migrate

SECRET = "s3cretPW"


# --- what is read ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "hosts"),
    [
        ("postgresql://db.internal/x", (Host("db.internal"),)),
        ("postgres://127.0.0.1:6543/x", (Host("127.0.0.1", 6543),)),
        ("postgresql://[::1]:5433/x", (Host("::1", 5433),)),
        ("postgresql://[fe80::1%25eth0]/x", (Host("fe80::1%eth0"),)),
        ("postgresql://[::1]:6000,a:5432,b/x", (Host("::1", 6000), Host("a", 5432), Host("b"))),
        ("postgresql://%2Fvar%2Frun%2Fpostgresql/x", (Host("/var/run/postgresql"),)),
        ("postgresql:///x?host=/var/run/postgresql", (Host("/var/run/postgresql"),)),
        ("postgresql://u@/x?host=a,b&port=5433", (Host("a", 5433), Host("b", 5433))),
        ("postgresql://u@/x?host=a,b&port=1,2", (Host("a", 1), Host("b", 2))),
    ],
)
def test_hosts_from_the_authority_or_the_query(url: str, hosts: tuple[Host, ...]) -> None:
    assert dburl.parse(url).hosts == hosts


def test_user_password_and_database_are_percent_decoded() -> None:
    parsed = dburl.parse("postgresql://us%40er:p%2F%3A%40ss:w@h/d%C3%A9b%2Fx?application_name=a%26b")
    assert (parsed.user, parsed.password, parsed.database) == ("us@er", "p/:@ss:w", "déb/x")
    assert parsed.parameters == (("application_name", "a&b"),)


def test_query_user_password_and_dbname_are_the_same_as_in_the_url() -> None:
    parsed = dburl.parse("postgresql://h?user=u&password=p&dbname=d")
    assert (parsed.user, parsed.password, parsed.database, parsed.parameters) == ("u", "p", "d", ())


# --- hostile and malformed URLs ------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        # libpq: host `app`, port 123, database `Secret@host/db`: the user-info is ambiguous.
        (f"postgresql://app:123/{SECRET}@host/db", "ambiguous user name or password"),
        (f"postgresql://app:{SECRET}@evil@host/db", "ambiguous user name or password"),
        # libpq reads `host?password=a` as the user-info
        (f"postgresql://host?password={SECRET}@b/db", "ambiguous user name or password"),
        (f"postgresql://app:{SECRET}[x]@host/db", "ambiguous user name or password"),
        (f"postgresql://app:{SECRET}#x@host/db", "contains '#'"),
        (f"postgresql://app:{SECRET} x@host/db", "space or a control character"),
        (f"postgresql://app:{SECRET}@host/db\n", "space or a control character"),
        (f"postgresql://app:{SECRET}@host:5432x/db", "port that is not a number"),
        (f"postgresql://app:{SECRET}@host:0/db", "port that is not a number"),
        (f"postgresql://app:{SECRET}@host:65536/db", "port that is not a number"),
        (f"postgresql://app:{SECRET}@host:/db", "port that is not a number"),
        (f"postgresql://app:{SECRET}@host:5_432/db", "port that is not a number"),
        (f"postgresql://app:{SECRET}@:5432/db", "empty host"),
        (f"postgresql://app:{SECRET}@a,,b/db", "empty host"),
        (f"postgresql://app:{SECRET}@[nope]/db", "not an IPv6 address"),
        (f"postgresql://app:{SECRET}@[::1/db", "not an IPv6 address"),
        (f"postgresql://app:{SECRET}@[::1]x/db", "[IPv6 address] that is not the first host"),
        # Python's urlsplit (asyncpg) refuses these on some builds, libpq reads them
        (f"postgresql://app:{SECRET}@a:1,[::1]:2/db", "[IPv6 address] that is not the first host"),
        (f"postgresql://app:{SECRET}@[::1],a/db", "[IPv6 address] that is not the first host"),
        (f"postgresql://app:{SECRET}@h%2Cevil/db", "not a name"),
        (f"postgresql://app:{SECRET}@%2Ftmp%2Ca/db", "socket directory with ','"),
        (f"postgresql://app:{SECRET}@/db?host=::1", "not a name"),
        (f"postgresql://app:{SECRET}@/db?host=h:5432", "not a name"),
        (f"postgresql://app:{SECRET}%zz@h/db", "invalid percent-encoding"),
        (f"postgresql://app:{SECRET}%00@h/db", "invalid percent-encoding"),
        (f"postgresql://app:{SECRET}%ff@h/db", "not UTF-8"),
        # asyncpg keeps the authority's host and port, libpq takes the query's
        (f"postgresql://app:{SECRET}@localhost/db?host=10.0.0.5", "names host both"),
        (f"postgresql://app:{SECRET}@localhost/db?port=5433", "names port both"),
        (f"postgresql://app:{SECRET}@h/db?dbname=other", "names dbname both"),
        (f"postgresql://app:{SECRET}@h/db?password=other", "names password both"),
        (f"postgresql://app:{SECRET}@/db?host=a,b,c&port=1,2", "names 2 ports for 3 hosts"),
        (f"postgresql://app:{SECRET}@/db?port=5432", "port= but no host"),
        (f"postgresql://app@h/db?password={SECRET}+x", "'+'"),
        (f"postgresql://app@h/db?password={SECRET}=x", "not name=value"),
        (f"postgresql://app@h/db?password={SECRET}&", "not name=value"),
        (f"postgresql://app@h/db?password=&sslmode={SECRET}", "not name=value"),
        (f"postgresql://app@h/db?sslmode={SECRET}", "sslmode= value PostgreSQL does not know"),
        (f"postgresql://app@h/db?host=a&host={SECRET}", "host= twice"),
        (f"postgresql://app@h/db?hostaddr={SECRET}", "hostaddr="),
        (f"postgresql://app@h/db?service={SECRET}", "service="),
        (f"postgresql://app@h/db?{SECRET}=1", "PostgreSQL clients do not know"),
        (f"mysql://app:{SECRET}@h/db", "must start with postgresql://"),
        (f"POSTGRESQL://app:{SECRET}@h/db", "must start with postgresql://"),
        (f"app:{SECRET}@h/db", "must start with postgresql://"),
    ],
)
def test_hostile_urls_are_refused_without_quoting_them(url: str, reason: str) -> None:
    with pytest.raises(MalformedURL) as caught:
        dburl.parse(url)
    assert reason in str(caught.value)
    assert SECRET not in str(caught.value)
    assert dburl.redact(url).endswith("(malformed URL, not shown)")
    assert SECRET not in dburl.redact(url)


def test_problem_also_wants_a_host_and_a_database() -> None:
    assert dburl.problem("postgresql://h/db") is None
    assert "must name a host" in str(dburl.problem("postgresql:///db"))
    assert "must name a database" in str(dburl.problem("postgresql://h"))
    assert "port that is not a number" in str(dburl.problem("postgresql://h:x/db"))


# --- the local guard ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:p@localhost/db",
        "postgresql://u:p@LOCALHOST:5432/db",
        "postgresql://u:p@127.0.0.1/db",
        "postgresql://u:p@127.8.9.10/db",
        "postgresql://u:p@[::1]/db",
        "postgresql://u:p@[::ffff:127.0.0.1]/db",
        "postgresql://u:p@%2Fvar%2Frun%2Fpostgresql/db",
        "postgresql://u:p@/db?host=/tmp",
        "postgresql://u:p@localhost,127.0.0.1:5433/db",
        "postgresql://u:p@/db?host=localhost,/tmp&port=5432",
    ],
)
def test_local_urls(url: str) -> None:
    assert dburl.parse(url).is_local


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:p@/db?host=10.0.0.5&port=5432",  # the host only in the query string
        "postgresql://u:p@localhost,10.0.0.5/db",  # one local host of two
        "postgresql://u:p@127.0.0.1:5432,db.example.com:5432/db",
        "postgresql://u:p@/db?host=/tmp,10.0.0.5",
        "postgresql://u:p@[2001:db8::1]/db",
        "postgresql://u:p@0.0.0.0/db",
        "postgresql://u:p@127.1/db",  # getaddrinfo says loopback; not judged: refusal errs safe
        "postgresql://u:p@localhost.example.com/db",
        "postgresql://u:p@/db",  # no host: the client would take PGHOST
    ],
)
def test_not_local_urls(url: str) -> None:
    assert not dburl.parse(url).is_local


# --- rendering and redaction ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("postgresql://app@db/x", "postgresql://app@db/x"),
        ("postgresql://app:pw@[::1]:5432/x", "postgresql://app:***@[::1]:5432/x"),
        (
            "postgres://app:p%2Fw@h1:1,h2:2/x?sslpassword=k&sslmode=require",
            "postgres://app:***@h1:1,h2:2/x?sslpassword=***&sslmode=require",
        ),
        ("postgresql://u@/x?host=/tmp&password=pw", "postgresql://u:***@%2Ftmp/x"),
        ("postgresql://:pw@h/x", "postgresql://:***@h/x"),
    ],
)
def test_redaction_shows_no_password(url: str, redacted: str) -> None:
    assert dburl.redact(url) == redacted


def test_render_reads_back_the_same() -> None:
    for url in (
        "postgresql://u%3Ax:p%40%2F%3F%23%26@[::1]:2,a:1,%2Ftmp/d%40b?application_name=x%2By&sslmode=disable",
        "postgresql://u@/d?host=/tmp,b&port=5&target_session_attrs=read-write",
    ):
        parsed = dburl.parse(url)
        assert dburl.parse(parsed.render()) == parsed
        assert parsed.password is None or parsed.password not in parsed.render(redact=True)


def test_hosts_in_query_for_dbmate_need_one_port() -> None:
    parsed = dburl.parse("postgresql://u@%2Ftmp:5,b:5/d")
    assert parsed.render(hosts_in_query=True) == "postgresql://u@/d?host=/tmp,b&port=5"
    with pytest.raises(MalformedURL, match="different ports"):
        dburl.parse("postgresql://u@a:1,b:2/d").render(hosts_in_query=True)


# --- against libpq and asyncpg ----------------------------------------------------------------


def _address(host: str, port: int) -> object:
    """As asyncpg connects: a socket file in a directory, or (host, port)."""
    return os.path.join(host, f".s.PGSQL.{port}") if host.startswith("/") else (host, port)


def _ours(url: str) -> dict[str, Any]:
    parsed = dburl.parse(url)
    return {
        "addresses": [_address(host.name, host.port or 5432) for host in parsed.hosts],
        "user": parsed.user,
        "password": parsed.password,
        "database": parsed.database,
    }


def _libpq(url: str) -> dict[str, Any]:
    """libpq's PQconninfoParse (through psycopg's bundled libpq)."""
    options = conninfo_to_dict(url)
    hosts = str(options["host"]).split(",") if "host" in options else []
    ports = [int(port) if port else 5432 for port in str(options.get("port", "")).split(",")]
    return {
        "addresses": [
            _address(host, port)
            for host, port in zip(hosts, ports * len(hosts) if len(ports) == 1 else ports, strict=True)
        ],
        "user": options.get("user"),
        "password": options.get("password"),
        "database": options.get("dbname"),
    }


def _asyncpg(url: str) -> dict[str, Any]:
    """asyncpg's own DSN parser (private, the one create_pool uses)."""
    parse = connect_utils._parse_connect_dsn_and_args  # type: ignore[attr-defined]  # private, not in the stubs
    addresses, params = parse(
        dsn=url,
        host=None,
        port=None,
        user=None,
        password=None,
        passfile=None,
        database=None,
        ssl=None,
        service=None,
        servicefile=None,
        direct_tls=None,
        server_settings=None,
        target_session_attrs=None,
        krbsrvname=None,
        gsslib=None,
    )
    return {
        "addresses": [address if isinstance(address, str) else tuple(address) for address in addresses],
        "user": params.user,
        "password": params.password,
        "database": params.database,
    }


def _agree(url: str) -> None:
    ours = _ours(url)
    clean_env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    with mock.patch.dict(os.environ, {**clean_env, "PGPASSFILE": "/nonexistent/pgpass"}, clear=True):
        for theirs in (_libpq(url), _asyncpg(url)):
            if ours["addresses"]:  # none: each client has its default (and problem() refuses it)
                assert theirs["addresses"] == ours["addresses"], url
            for key in ("user", "password", "database"):
                if ours[key] is not None:  # unset: each client has its own default
                    assert theirs[key] == ours[key], (url, key)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:p%40ss@h/db",
        "postgresql://u:p:a:ss@h:6000/d%2Fb",
        "postgresql://u@[::1]:3,a:1,b:2/db",
        "postgresql://u@%2Fvar%2Frun%2Fpostgresql:5433/db",
        "postgresql://u@/db?host=/tmp,localhost&port=7",
        "postgresql:///db?host=a,b&port=1,2&user=v",
        "postgresql://h/db?user=u&password=p%2Bq",
        "postgresql://[fe80::1%25eth0]:5/db",
    ],
)
def test_libpq_and_asyncpg_read_accepted_urls_as_we_do(url: str) -> None:
    _agree(url)


_PIECES = st.sampled_from(
    [
        *"ab1:/@?#[],=&+%.",
        "%2F",
        "%40",
        "%3A",
        "%2C",
        "%zz",
        "::1",
        "[::1]",
        "localhost",
        "5432",
        "host=",
        "port=",
        "user=",
        "password=",
        "dbname=",
        "application_name=",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=14).map("".join))
def test_whatever_we_accept_libpq_and_asyncpg_read_the_same_way(rest: str) -> None:
    url = f"postgresql://{rest}"
    try:
        dburl.parse(url)
    except MalformedURL:
        return
    _agree(url)


# --- callers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "for_dbmate"),
    [
        ("postgresql://u:p@h:6000/db", "postgres://u:p@h:6000/db?sslmode=prefer"),
        ("postgresql://u@h/db?sslmode=disable", "postgres://u@h/db?sslmode=disable"),
        # dbmate misreads a socket directory or IPv6 in the authority, and per-host ports
        ("postgresql://u@%2Ftmp:5433/db", "postgres://u@/db?host=/tmp&port=5433&sslmode=prefer"),
        ("postgresql://u@[::1]/db", "postgres://u@/db?host=::1&sslmode=prefer"),
        ("postgresql://u@a:5,b:5/db", "postgres://u@/db?host=a,b&port=5&sslmode=prefer"),
    ],
)
def test_dbmate_gets_hosts_where_it_reads_them(url: str, for_dbmate: str) -> None:
    assert migrate.dbmate_url(url) == for_dbmate


def test_dbmate_cannot_take_hosts_on_different_ports() -> None:
    with pytest.raises(migrate.MigrationError, match="different ports") as caught:
        migrate.dbmate_url(f"postgresql://u:{SECRET}@a:1,b:2/db")
    assert SECRET not in str(caught.value)


def test_settings_take_several_hosts_but_iam_needs_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir("/")  # no .env
    url = "postgresql://app@db1:5432,db2:5432/codeflow?target_session_attrs=read-write"
    assert load_settings(database_url=url).redacted_database_url == url
    with pytest.raises(ConfigurationError, match="must name one host"):
        pool_options(load_settings(database_url=url, db_iam_auth=True))
