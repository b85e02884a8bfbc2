"""PostgreSQL connection URLs: the one parser every part of the package uses.

A URL is read by several clients: asyncpg (the pool), libpq (psql, pg_dump) and dbmate.
They disagree on corner cases (asyncpg prefers the authority's host to `?host=`, libpq
the reverse; `+` is a space to asyncpg and a plus to libpq; an unencoded `/` in a
password moves the host for libpq), so a URL is accepted only when libpq's URI rules
and asyncpg read it the same way. Anything else is `MalformedURL`, whose message never
quotes the URL: the text could be a password.

What is read (libpq's URI syntax): `postgresql://[user[:password]@][host[:port][,...]][/dbname][?k=v&...]`,
hosts in the authority or in `host=`/`port=` (not both), IPv6 in brackets, a host that
is a path (`%2Fvar%2Frun%2Fpostgresql`, or `host=/var/run/postgresql`) a Unix-socket directory.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

SCHEMES = ("postgresql", "postgres")

# Query parameters libpq and asyncpg both read, with the same meaning.
SUPPORTED_PARAMETERS = frozenset(
    {
        "host",
        "port",
        "dbname",
        "user",
        "password",
        "passfile",
        "application_name",
        "sslmode",
        "sslcert",
        "sslkey",
        "sslrootcert",
        "sslcrl",
        "sslpassword",
        "sslnegotiation",
        "ssl_min_protocol_version",
        "ssl_max_protocol_version",
        "target_session_attrs",
        "krbsrvname",
        "gsslib",
    }
)
SECRET_PARAMETERS = frozenset({"password", "sslpassword"})
# Values both clients accept; anything else one of them refuses only when connecting.
_ALLOWED_VALUES = {
    "sslmode": frozenset({"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}),
    "target_session_attrs": frozenset(
        {"any", "read-write", "read-only", "primary", "standby", "prefer-standby"}
    ),
}
# libpq keywords outside SUPPORTED_PARAMETERS: safe to name in an error (they are not
# the user's text). asyncpg sends them to the server as settings, or ignores them;
# `service` and `hostaddr` would take the host from somewhere the guard cannot judge.
_OTHER_LIBPQ_KEYWORDS = frozenset(
    {
        "hostaddr",
        "service",
        "ssl",
        "connect_timeout",
        "client_encoding",
        "options",
        "fallback_application_name",
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "tcp_user_timeout",
        "replication",
        "gssencmode",
        "requiressl",
        "sslcompression",
        "sslcrldir",
        "sslsni",
        "sslcertmode",
        "sslkeylogfile",
        "requirepeer",
        "require_auth",
        "channel_binding",
        "gssdelegation",
        "load_balance_hosts",
        "min_protocol_version",
        "max_protocol_version",
        "oauth_issuer",
        "oauth_client_id",
        "oauth_client_secret",
        "oauth_scope",
    }
)
# Lifted into PostgresURL's own fields; the rest stay in `parameters`.
_STRUCTURAL = frozenset({"host", "port", "dbname", "user", "password"})

_HOST_NAME = re.compile(r"[A-Za-z0-9._-]+")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})|%00")
_AMBIGUOUS = (
    "has an ambiguous user name or password: percent-encode '@', '/', ':', '?', '[' and ']' "
    "in them (e.g. '/' as %2F), and '@' in the database name"
)


class MalformedURL(ValueError):
    """Not a URL every client reads the same way. The message never quotes the URL."""


@dataclass(frozen=True)
class Host:
    """One server: a host name, an IP address (IPv6 without brackets), or a Unix-socket
    directory (an absolute path); `port` None means the client's default (5432)."""

    name: str
    port: int | None = None

    @property
    def is_socket(self) -> bool:
        return self.name.startswith("/")

    @property
    def is_local(self) -> bool:
        """On this machine: a socket directory, `localhost`, or a loopback address."""
        if self.is_socket or self.name.lower() == "localhost":
            return True
        try:
            address = ipaddress.ip_address(self.name)
        except ValueError:
            return False  # any other name may resolve anywhere
        mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
        return address.is_loopback or bool(mapped and mapped.is_loopback)


@dataclass(frozen=True)
class PostgresURL:
    """A parsed URL. Several hosts are a libpq/asyncpg failover list (target_session_attrs)."""

    scheme: str
    user: str | None
    password: str | None = field(repr=False)
    hosts: tuple[Host, ...]
    database: str | None
    parameters: tuple[tuple[str, str], ...] = field(repr=False)  # the others, in order

    @property
    def has_password(self) -> bool:
        return self.password is not None or any(name in SECRET_PARAMETERS for name, _ in self.parameters)

    @property
    def is_local(self) -> bool:
        """Every host is on this machine (a URL naming no host is not judged local: the
        client would take it from PGHOST)."""
        return bool(self.hosts) and all(host.is_local for host in self.hosts)

    def with_database(self, database: str) -> PostgresURL:
        return dataclasses.replace(self, database=database)

    def render(self, *, redact: bool = False, hosts_in_query: bool = False) -> str:
        """The URL in canonical form, which every client reads as this object says;
        `redact` puts `***` for each password. `hosts_in_query` names the hosts with
        `host=`/`port=` (for dbmate, which misreads socket and IPv6 hosts in the
        authority); it needs one port for all of them."""
        userinfo = ""
        if self.user is not None or self.password is not None:
            userinfo = quote(self.user or "", safe="")
            if self.password is not None:
                userinfo += ":" + ("***" if redact else quote(self.password, safe=""))
            userinfo += "@"
        parameters = list(self.parameters)
        if hosts_in_query:
            authority = ""
            ports = {host.port for host in self.hosts}
            if len(ports) > 1:
                raise MalformedURL("names hosts on different ports, which cannot be written as one port=")
            hosts = [("host", ",".join(host.name for host in self.hosts))] if self.hosts else []
            port = [("port", str(ports.pop()))] if ports and None not in ports else []
            parameters = hosts + port + parameters
        else:
            authority = ",".join(_render_host(host) for host in self.hosts)
        path = "/" + quote(self.database, safe="") if self.database is not None else ""
        query = "&".join(
            f"{quote(name, safe='')}={_render_value(name, value, redact=redact)}"
            for name, value in parameters
        )
        return f"{self.scheme}://{userinfo}{authority}{path}{'?' + query if query else ''}"


def _render_value(name: str, value: str, *, redact: bool) -> str:
    return "***" if redact and name in SECRET_PARAMETERS else quote(value, safe="/:,")


def _render_host(host: Host) -> str:
    if host.is_socket:
        name = quote(host.name, safe="")
    elif ":" in host.name:
        name = f"[{quote(host.name, safe=':')}]"
    else:
        name = host.name
    return name if host.port is None else f"{name}:{host.port}"


def parse(url: str) -> PostgresURL:
    """`url` as libpq and asyncpg both read it, or `MalformedURL`."""
    scheme, separator, rest = url.partition("://")
    if not separator or scheme not in SCHEMES:
        raise MalformedURL("must start with postgresql:// (or postgres://)")
    if any(character <= " " or character == "\x7f" for character in url):
        raise MalformedURL("contains a space or a control character: percent-encode it")
    if "#" in rest:
        raise MalformedURL("contains '#', which some clients read as the end of the URL: write it as %23")
    # libpq: user-info ends at the first '@' that comes before any '/'.
    at, slash = rest.find("@"), rest.find("/")
    user = password = None
    if at != -1 and (slash == -1 or at < slash):
        userinfo, rest = rest[:at], rest[at + 1 :]
        if any(character in userinfo for character in "?[]"):
            raise MalformedURL(_AMBIGUOUS)
        raw_user, colon, raw_password = userinfo.partition(":")
        user = _decode(raw_user) or None
        password = (_decode(raw_password) or None) if colon else None
    head, question, query = rest.partition("?")
    if "@" in head:
        raise MalformedURL(_AMBIGUOUS)
    authority, slash_found, raw_database = head.partition("/")
    hosts = _authority_hosts(authority)
    database = (_decode(raw_database) or None) if slash_found else None
    given = _parameters(query) if question else {}
    named_twice = [
        name
        for name, present in (
            ("host", bool(hosts)),
            ("port", bool(hosts)),
            ("dbname", database is not None),
            ("user", user is not None),
            ("password", password is not None),
        )
        if present and name in given
    ]
    if named_twice:
        raise MalformedURL(
            f"names {named_twice[0]} both in the URL and as {named_twice[0]}=: clients disagree on which wins"
        )
    if "host" in given:
        hosts = _query_hosts(given["host"], given.get("port"))
    elif "port" in given:
        raise MalformedURL("has port= but no host")
    return PostgresURL(
        scheme=scheme,
        user=given.get("user", user),
        password=given.get("password", password),
        hosts=hosts,
        database=given.get("dbname", database),
        parameters=tuple((name, value) for name, value in given.items() if name not in _STRUCTURAL),
    )


def _decode(text: str) -> str:
    if _BAD_ESCAPE.search(text):
        raise MalformedURL("has an invalid percent-encoding ('%' and two hex digits, not %00)")
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise MalformedURL("is not UTF-8 once percent-decoded") from None


def _port(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,5}", text) or not 1 <= int(text) <= 65535:
        raise MalformedURL("has a port that is not a number from 1 to 65535")
    return int(text)


def _checked_name(name: str) -> str:
    """A decoded host that is not in brackets: a socket directory, a name or an IPv4 address."""
    if not name:
        raise MalformedURL("names an empty host (in a list, or before a port)")
    if name.startswith("/"):
        if "," in name:
            raise MalformedURL("has a socket directory with ',' in it, which clients split differently")
        return name
    if not _HOST_NAME.fullmatch(name):
        raise MalformedURL(
            "has a host that is not a name, an IPv4 address, [an IPv6 address] or a socket directory"
        )
    return name


def _authority_hosts(authority: str) -> tuple[Host, ...]:
    if not authority:
        return ()
    # Python's urlsplit (asyncpg's parser) refuses text before the first '[' and anything
    # but ':' right after its ']' on builds with the bracketed-host check (Debian's 3.11).
    close = authority.find("]")
    after_close = authority[close + 1 : close + 2] if close != -1 else ""
    if "[" in authority and (not authority.startswith("[") or after_close not in ("", ":")):
        raise MalformedURL(
            "has an [IPv6 address] that is not the first host, or has no :port before the next one "
            "(Python's URL parser, asyncpg's, refuses that)"
        )
    hosts = []
    for spec in authority.split(","):
        if spec.startswith("["):
            end = spec.find("]")
            after = spec[end + 1 :] if end != -1 else ""
            name = _decode(spec[1:end]) if end != -1 else ""
            try:
                ipaddress.IPv6Address(name)
            except ValueError:
                raise MalformedURL("has brackets around something that is not an IPv6 address") from None
            if after and not after.startswith(":"):
                raise MalformedURL("has text after an [IPv6 address] that is not :port")
            port_text = after[1:] if after else None
        else:
            raw_name, colon, port_text_or_empty = spec.partition(":")
            if "[" in raw_name or "]" in raw_name:
                raise MalformedURL("has brackets around something that is not an IPv6 address")
            name = _checked_name(_decode(raw_name))
            port_text = port_text_or_empty if colon else None
        hosts.append(Host(name, None if port_text is None else _port(_decode(port_text))))
    return tuple(hosts)


def _query_hosts(host_list: str, port_list: str | None) -> tuple[Host, ...]:
    names = [_checked_name(name) for name in host_list.split(",")]
    ports: list[int | None] = [None] * len(names)
    if port_list is not None:
        given = [_port(port) for port in port_list.split(",")]
        if len(given) not in (1, len(names)):
            raise MalformedURL(f"names {len(given)} ports for {len(names)} hosts")
        ports = list(given * len(names) if len(given) == 1 else given)
    return tuple(Host(name, port) for name, port in zip(names, ports, strict=True))


def _parameters(query: str) -> dict[str, str]:
    if not query:
        return {}
    if "+" in query:
        raise MalformedURL("has '+' in its query, a space to some clients: write it as %2B")
    found: dict[str, str] = {}
    for pair in query.split("&"):
        raw_name, equals, raw_value = pair.partition("=")
        if not equals or not raw_name or not raw_value or "=" in raw_value:
            raise MalformedURL("has a query parameter that is not name=value (encode '=' and '&' in values)")
        name = _decode(raw_name)
        if name not in SUPPORTED_PARAMETERS:
            if name in _OTHER_LIBPQ_KEYWORDS:
                raise MalformedURL(f"has {name}=, which asyncpg and libpq do not read the same way")
            raise MalformedURL("has a query parameter PostgreSQL clients do not know")
        if name in found:
            raise MalformedURL(f"has {name}= twice")
        found[name] = _decode(raw_value)
        if name in _ALLOWED_VALUES and found[name] not in _ALLOWED_VALUES[name]:
            raise MalformedURL(f"has a {name}= value PostgreSQL does not know")
    return found


def problem(url: str) -> str | None:
    """Why `url` is not a usable database URL (naming a host and a database), or None."""
    try:
        parsed = parse(url)
    except MalformedURL as exc:
        return str(exc)
    if not parsed.hosts:
        return "must name a host (postgresql://user:password@host:port/dbname)"
    if not parsed.database:
        return "must name a database (postgresql://user:password@host:port/dbname)"
    return None


def redact(url: str) -> str:
    """`url` for messages and logs: every password `***`; a URL that does not parse is
    not shown at all, since any part of it may be a password."""
    try:
        return parse(url).render(redact=True)
    except MalformedURL:
        scheme = url.partition("://")[0]
        return f"{scheme}://(malformed URL, not shown)" if scheme in SCHEMES else "(malformed URL, not shown)"
