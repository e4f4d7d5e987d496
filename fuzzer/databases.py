"""Where failing examples are kept, named by one string: a database spec.

The rule: every failure is saved to exactly one writable database (the
primary), and replayed from the primary and from any number of read-only
sources.  So machines that share a Redis server share one memory of failures,
and a laptop replays what CI found (``--read-from github:OWNER/REPO``) without
ever writing to CI's copy.  The spec forms, the same for ``python -m fuzzer``
and the pytest plugin:

``none``
    keep nothing (failures are still replayed within one run).
``redis://HOST:PORT/DB`` (``rediss://`` with TLS; ``redis://:PASSWORD@HOST...``)
    a Redis server, shared by every machine that can reach it.  It is pinged at
    open, so an unreachable server is reported at once.  Needs the ``redis``
    extra: ``pip install 'trio-race-fuzzer[redis]'``.
``github:OWNER/REPO`` or ``github:OWNER/REPO/ARTIFACT_NAME``
    read-only: the example database the fuzz workflow uploads as an artifact
    (default name :data:`ARTIFACT_NAME`).  Downloading needs ``GITHUB_TOKEN``;
    the download is cached for a day in Hypothesis's storage directory
    (``.hypothesis/github-artifacts/ARTIFACT_NAME/``).
anything else
    a directory.

Specs, not database objects, are what gets passed around, so a worker process
can reopen the same databases itself.  All of Hypothesis's shared databases
store the format of one Hypothesis version: ``constraints.txt`` pins it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from hypothesis.configuration import storage_directory
from hypothesis.database import (
    DirectoryBasedExampleDatabase,
    ExampleDatabase,
    GitHubArtifactDatabase,
    InMemoryExampleDatabase,
    MultiplexedDatabase,
    ReadOnlyDatabase,
)

ARTIFACT_NAME = "fuzz-example-database"
"""The artifact ``.github/workflows/fuzz.yml`` uploads the example database as."""

REDIS_KEY_PREFIX = b"trio-race-fuzzer:"
"""Our keys in a Redis server that may hold other things too."""

REDIS_CONNECT_TIMEOUT = 5.0
REDIS_TIMEOUT = 30.0

_GITHUB = re.compile(
    r"github:(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9-]*))/(?P<repo>[A-Za-z0-9._-]+)"
    r"(?:/(?P<artifact>[^/\s]+))?"
)
_GITHUB_FORMS = "github:OWNER/REPO or github:OWNER/REPO/ARTIFACT_NAME"


class DatabaseError(Exception):
    """A bad database spec or an unreachable server: reported in one line, exit 2."""


def open_database(spec: str) -> ExampleDatabase | None:
    """The database ``spec`` names (see the module docstring); None for ``none``."""
    if spec == "none":
        return None
    if spec.startswith("github:"):
        return _github(spec)
    scheme = urlsplit(spec).scheme if "://" in spec else ""
    if scheme in ("redis", "rediss"):
        return _redis(spec)
    if scheme:
        raise DatabaseError(
            f"unsupported database {spec!r}: use a directory, redis://HOST:PORT/DB, "
            "github:OWNER/REPO[/ARTIFACT_NAME] (read-only), or none"
        )
    return DirectoryBasedExampleDatabase(spec)


def open_databases(spec: str, read_from: Sequence[str] = ()) -> ExampleDatabase | None:
    """The primary ``spec`` (saved to) plus read-only sources (only replayed from)."""
    if spec.startswith("github:"):
        raise DatabaseError(
            f"{spec} is read-only: pass it as a source to read from (--read-from), "
            "not as the database failures are saved to"
        )
    return with_sources(open_database(spec), read_from)


def with_sources(
    primary: ExampleDatabase | None, read_from: Sequence[str]
) -> ExampleDatabase | None:
    """``primary``, also replaying from the read-only sources ``read_from`` names.

    The primary comes first, so new failures are saved there and only there.
    With sources but no primary, failures are kept in memory for the run (the
    runner replays what was saved after an interrupt).
    """
    sources = [open_database(source) for source in read_from]
    read_only = [
        source if isinstance(source, ReadOnlyDatabase) else ReadOnlyDatabase(source)
        for source in sources
        if source is not None
    ]
    if not read_only:
        return primary
    return MultiplexedDatabase(
        primary if primary is not None else InMemoryExampleDatabase(), *read_only
    )


def _github(spec: str) -> ExampleDatabase:
    match = _GITHUB.fullmatch(spec)
    if match is None:
        raise DatabaseError(f"bad database spec {spec!r}: expected {_GITHUB_FORMS}")
    artifact = match["artifact"] or ARTIFACT_NAME
    # Hypothesis's default cache path, computed without touching the disk (the
    # pytest plugin opens databases while pytest is still configuring).
    cache = storage_directory("github-artifacts", artifact, intent_to_write=False).path
    return ReadOnlyDatabase(
        GitHubArtifactDatabase(match["owner"], match["repo"], artifact_name=artifact, path=cache)
    )


def _redis(spec: str) -> ExampleDatabase:
    try:
        import redis
        from hypothesis.extra.redis import RedisExampleDatabase
    except ImportError:
        raise DatabaseError(
            f"{_redacted(spec)} needs the redis package: pip install 'trio-race-fuzzer[redis]'"
        ) from None
    try:
        client = redis.Redis.from_url(
            spec, socket_connect_timeout=REDIS_CONNECT_TIMEOUT, socket_timeout=REDIS_TIMEOUT
        )
        client.ping()
    except (redis.RedisError, ValueError) as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise DatabaseError(f"cannot use the Redis database {_redacted(spec)}: {reason}") from None
    return RedisExampleDatabase(client, key_prefix=REDIS_KEY_PREFIX)


def _redacted(url: str) -> str:
    """``url`` without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return parts._replace(netloc=f"{user}:***@{host}").geturl()
