"""The audit projection: who changed what, when, and what it caused — indexed.

Written in the same transaction as the current-state view (see views.py), from the
state before and after each event, so a query costs what its answer costs, not a
scan of the log.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.sqlite import SQLiteCursor

from imagetrail.engine.domain.deployment import Deployment
from imagetrail.engine.domain.imagestream import ImageStream, ImageStreamState
from imagetrail.engine.domain.parsing import timestamp

TABLES = [
    # one row per event: the audit log that `imagetrail log` filters
    "CREATE TABLE IF NOT EXISTS audit_events ("
    " position INTEGER PRIMARY KEY, timestamp TEXT NOT NULL, actor TEXT NOT NULL, namespace TEXT NOT NULL,"
    " kind TEXT NOT NULL, object TEXT NOT NULL, tag TEXT, correlation_id TEXT NOT NULL, command TEXT,"
    " reason TEXT, summary TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS audit_by_time ON audit_events (timestamp)",
    "CREATE INDEX IF NOT EXISTS audit_by_actor ON audit_events (actor, position)",
    "CREATE INDEX IF NOT EXISTS audit_by_namespace ON audit_events (namespace, position)",
    "CREATE INDEX IF NOT EXISTS audit_by_object ON audit_events (namespace, object, position)",
    "CREATE INDEX IF NOT EXISTS audit_by_kind ON audit_events (kind, position)",
    "CREATE INDEX IF NOT EXISTS audit_by_command ON audit_events (correlation_id)",
    # every move of a tag's head (and its deletion): `imagetrail history IS:TAG`
    "CREATE TABLE IF NOT EXISTS tag_changes ("
    " position INTEGER PRIMARY KEY, namespace TEXT NOT NULL, stream TEXT NOT NULL, tag TEXT NOT NULL,"
    " version INTEGER NOT NULL, change TEXT NOT NULL, source TEXT, old_image TEXT, old_pull_spec TEXT,"
    " new_image TEXT, new_pull_spec TEXT)",
    "CREATE INDEX IF NOT EXISTS tag_changes_by_tag ON tag_changes (namespace, stream, tag, position)",
    "CREATE INDEX IF NOT EXISTS tag_changes_by_version ON tag_changes (namespace, stream, tag, version)",
    # every container image change of a Deployment, with its cause: `imagetrail history deployment/NAME`
    "CREATE TABLE IF NOT EXISTS image_changes ("
    " position INTEGER NOT NULL, namespace TEXT NOT NULL, deployment TEXT NOT NULL, container TEXT NOT NULL,"
    " old_image TEXT, new_image TEXT NOT NULL, cause TEXT NOT NULL, cause_stream TEXT, cause_tag TEXT,"
    " cause_version INTEGER, PRIMARY KEY (position, container))",
    "CREATE INDEX IF NOT EXISTS image_changes_by_deployment ON image_changes (namespace, deployment, position)",
    "CREATE INDEX IF NOT EXISTS image_changes_by_cause ON image_changes (cause_stream, cause_tag, cause_version)",
    # which version of each object held at each position: the key to as-of reads
    "CREATE TABLE IF NOT EXISTS object_versions ("
    " kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL,"
    " position INTEGER NOT NULL, PRIMARY KEY (kind, namespace, name, version))",
    "CREATE INDEX IF NOT EXISTS object_versions_by_position ON object_versions (kind, namespace, position)",
    # one object's version at a position, in O(log n): without it SQLite took the index above and
    # scanned the namespace's history up to the position (~7 ms at 100k events, linear in the log)
    "CREATE INDEX IF NOT EXISTS object_versions_by_name ON object_versions (kind, namespace, name, position)",
    # changes seen on a cluster (watch) and who made them (API audit): joined by object and
    # resourceVersion, whichever arrives first, to put the person on the observed change
    "CREATE TABLE IF NOT EXISTS observed_changes ("
    " namespace TEXT NOT NULL, object TEXT NOT NULL, version TEXT NOT NULL, position INTEGER NOT NULL,"
    " PRIMARY KEY (namespace, object, version, position))",
    "CREATE TABLE IF NOT EXISTS attributions ("
    " namespace TEXT NOT NULL, object TEXT NOT NULL, version TEXT NOT NULL, actor TEXT NOT NULL,"
    " PRIMARY KEY (namespace, object, version))",
]

# The kind of each event, as `log --kind` filters it (a prefix like "tag" or a suffix like
# "import" also matches).
KINDS = {
    "ImageStream.Created": "imagestream.created", "ImageStream.LookupPolicySet": "imagestream.lookup-set",
    "ImageStream.SpecTagSet": "tag.spec-set", "ImageStream.ImportFailed": "tag.import-failed",
    "ImageStream.TagDeleted": "tag.delete",
    "Deployment.Created": "deployment.created", "Deployment.ImagesChanged": "deployment.images-changed",
    "Deployment.RolledOut": "deployment.rolled-out", "Deployment.TriggersSet": "deployment.triggers-set",
    "Deployment.PauseSet": "deployment.pause-set",
    "ImageStream.AppliedToCluster": "imagestream.applied-to-cluster",
    "ImageStream.Attributed": "imagestream.attributed", "Deployment.Attributed": "deployment.attributed",
    "ImageStream.Deleted": "imagestream.deleted", "ImageStream.Recreated": "imagestream.created",
    "Deployment.Deleted": "deployment.deleted", "Deployment.Recreated": "deployment.created",
}
# TagMoved.change → what happened to the tag
TAG_CHANGE_KINDS = {
    "import": "import", "scheduled-import": "scheduled-import", "reference": "reference", "copy": "copy",
    "alias": "alias-set", "followed": "alias-followed", "bootstrap": "bootstrap", "rollback": "rollback",
}


def kind_of(event: Any) -> str:
    if isinstance(event, ImageStream.TagMoved):
        return "tag." + TAG_CHANGE_KINDS[event.change]
    return KINDS[type(event).__qualname__]


def prior(event: Any, state: Any) -> dict[str, Any]:
    """The little of an object's state before `event` that the index needs (copying the whole
    state per event would make indexing cost grow with each object's history)."""
    if state is None:
        return {}
    if isinstance(event, (ImageStream.TagMoved, ImageStream.TagDeleted)):
        head = state.head(event.tag)
        return {"head": head.model_copy() if head else None}
    if isinstance(event, Deployment.ImagesChanged):
        return {"images": dict(state.template_images)}
    return {}


def record(c: SQLiteCursor, position: int, event: Any, before: dict[str, Any], state: Any) -> None:
    """Index one event, given what `prior` kept of its object before it, and the state after it."""
    summary, tag = _summary(event, before, state)
    c.execute(
        "INSERT OR REPLACE INTO audit_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (position, timestamp(event.timestamp), event.actor, state.namespace, kind_of(event), _object(state), tag,
         event.correlation_id, event.command, event.reason, summary),
    )
    _attribute(c, position, event, state)
    c.execute("INSERT OR REPLACE INTO object_versions VALUES (?, ?, ?, ?, ?)",
              ("imagestream" if isinstance(state, ImageStreamState) else "deployment", state.namespace,
               state.name, event.originator_version, position))
    if isinstance(event, (ImageStream.TagMoved, ImageStream.TagDeleted)):
        old = before.get("head")
        new = state.head(event.tag) if isinstance(event, ImageStream.TagMoved) else None
        change = TAG_CHANGE_KINDS[event.change] if isinstance(event, ImageStream.TagMoved) else "delete"
        c.execute(
            "INSERT OR REPLACE INTO tag_changes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (position, state.namespace, state.name, event.tag, event.originator_version, change,
             getattr(event, "source", ""), old.image if old else None,
             old.docker_image_reference if old else None, new.image if new else None,
             new.docker_image_reference if new else None),
        )
    elif isinstance(event, Deployment.ImagesChanged):
        old_images = before.get("images", {})
        for change in event.changes:
            cause = change.cause
            c.execute(
                "INSERT OR REPLACE INTO image_changes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (position, state.namespace, state.name, change.container, old_images.get(change.container),
                 change.image, cause.kind, cause.stream or None, cause.tag or None, cause.tag_event),
            )


def _attribute(c: SQLiteCursor, position: int, event: Any, state: Any) -> None:
    """Put the audit log's person on the observed change of the same object and version."""
    obj = _object(state)
    if isinstance(event, (ImageStream.Attributed, Deployment.Attributed)):
        if not event.resource_version:
            return
        actor = f"{event.user} ({event.intent})"
        c.execute("INSERT OR REPLACE INTO attributions VALUES (?, ?, ?, ?)",
                  (state.namespace, obj, event.resource_version, actor))
        c.execute("UPDATE audit_events SET actor = ? WHERE position IN (SELECT position FROM observed_changes"
                  " WHERE namespace = ? AND object = ? AND version = ?)",
                  (actor, state.namespace, obj, event.resource_version))
    elif event.observed:
        version = event.observed.rpartition("@")[2]
        c.execute("INSERT OR IGNORE INTO observed_changes VALUES (?, ?, ?, ?)", (state.namespace, obj, version, position))
        c.execute("SELECT actor FROM attributions WHERE namespace = ? AND object = ? AND version = ?",
                  (state.namespace, obj, version))
        row = c.fetchone()
        if row:
            c.execute("UPDATE audit_events SET actor = ? WHERE position = ?", (row[0], position))


def _object(state: Any) -> str:
    return f"is/{state.name}" if isinstance(state, ImageStreamState) else f"deployment/{state.name}"


def _short(image: str | None) -> str:
    return f"{image[:19]}…" if image and len(image) > 19 else (image or "<none>")


def _summary(event: Any, before: dict[str, Any], after: Any) -> tuple[str, str | None]:
    """A human line for the log, and the tag the event is about (if any)."""
    if isinstance(event, ImageStream.TagMoved):
        old = before.get("head")
        via = f" (from {event.source})" if event.source else ""
        return f"{after.name}:{event.tag} {_short(old.image if old else None)} → {_short(event.item.image)}{via}", \
            event.tag
    if isinstance(event, ImageStream.SpecTagSet):
        src = event.tag.source
        return f"{after.name}:{event.tag.name} set to {src.kind} {src.name}" if src else \
            f"{after.name}:{event.tag.name} set without a source", event.tag.name
    if isinstance(event, ImageStream.ImportFailed):
        return f"{after.name}:{event.tag} import failed: {event.condition.message}", event.tag
    if isinstance(event, ImageStream.TagDeleted):
        return f"{after.name}:{event.tag} deleted", event.tag
    if isinstance(event, ImageStream.LookupPolicySet):
        return f"image lookup local={str(event.local).lower()}", None
    if isinstance(event, (ImageStream.Created, Deployment.Created)):
        return "created", None
    if isinstance(event, (ImageStream.Attributed, Deployment.Attributed)):
        version = f", resourceVersion {event.resource_version}" if event.resource_version else ""
        return f"{event.intent} by {event.user} at {event.at} (API audit {event.audit_id}{version})", None
    if isinstance(event, ImageStream.AppliedToCluster):
        return f"ran on the cluster as {event.cluster_user}: {event.cluster_command} (exit {event.exit_code})", None
    if isinstance(event, (ImageStream.Deleted, Deployment.Deleted)):
        return "deleted", None
    if isinstance(event, (ImageStream.Recreated, Deployment.Recreated)):
        return "created again after a deletion", None
    if isinstance(event, Deployment.ImagesChanged):
        return "; ".join(f"{c.container}={c.image} ({c.cause.describe()})" for c in event.changes), None
    if isinstance(event, Deployment.RolledOut):
        return f"revision {event.revision}: " + ",".join(f"{k}={v}" for k, v in event.images.items()), None
    if isinstance(event, Deployment.TriggersSet):
        return f"triggers {event.annotation}", None
    if isinstance(event, Deployment.PauseSet):
        return "paused" if event.paused else "resumed", None
    return type(event).__qualname__, None


# -- queries ------------------------------------------------------------------------------------

def tag_history(c: SQLiteCursor, namespace: str, stream: str, tag: str, limit: int | None) -> list[dict[str, Any]]:
    c.execute(
        "SELECT t.*, a.timestamp, a.actor, a.correlation_id, a.command, a.reason FROM tag_changes t"
        " JOIN audit_events a ON a.position = t.position"
        " WHERE t.namespace = ? AND t.stream = ? AND t.tag = ? ORDER BY t.position DESC LIMIT ?",
        (namespace, stream, tag, -1 if limit is None else limit))
    rows = [dict(r) for r in c.fetchall()]
    c.execute("SELECT COUNT(*) FROM tag_changes WHERE namespace = ? AND stream = ? AND tag = ?", (namespace, stream, tag))
    total = c.fetchone()[0]
    for index, row in enumerate(rows):
        row["revision"] = total - index  # the tag's changes numbered oldest first
        # by the cause index alone (cause_stream names the namespace): a namespace filter here
        # made SQLite pick the per-Deployment index and scan every image change of the namespace
        c.execute("SELECT DISTINCT deployment FROM image_changes WHERE cause_stream = ? AND cause_tag = ?"
                  " AND cause_version = ? ORDER BY deployment", (f"{namespace}/{stream}", tag, row["version"]))
        row["deployments"] = [r[0] for r in c.fetchall()]
    return rows


def deployment_history(c: SQLiteCursor, namespace: str, name: str, limit: int | None) -> list[dict[str, Any]]:
    c.execute(
        "SELECT i.*, a.timestamp, a.actor, a.correlation_id, a.command, a.reason FROM image_changes i"
        " JOIN audit_events a ON a.position = i.position"
        " WHERE i.namespace = ? AND i.deployment = ? ORDER BY i.position DESC, i.container LIMIT ?",
        (namespace, name, -1 if limit is None else limit))
    rows = [dict(r) for r in c.fetchall()]
    for row in rows:  # follow the cause back to the tag event, its command and its actor
        row["tag_event"] = None
        if row["cause"] == "trigger" and row["cause_version"] is not None:
            ns, stream = row["cause_stream"].split("/", 1)
            c.execute("SELECT t.position, t.change, a.actor, a.command, a.correlation_id FROM tag_changes t"
                      " JOIN audit_events a ON a.position = t.position WHERE t.namespace = ? AND t.stream = ?"
                      " AND t.tag = ? AND t.version = ?", (ns, stream, row["cause_tag"], row["cause_version"]))
            found = c.fetchone()
            row["tag_event"] = dict(found) if found else None
    return rows


def version_at(c: SQLiteCursor, kind: str, namespace: str, name: str, position: int) -> int | None:
    # an object's versions are in the log in order: the last one at or before the position is the highest
    c.execute("SELECT version FROM object_versions WHERE kind = ? AND namespace = ? AND name = ?"
              " AND position <= ? ORDER BY position DESC LIMIT 1", (kind, namespace, name, position))
    row = c.fetchone()
    return row[0] if row else None


def names_at(c: SQLiteCursor, kind: str, namespace: str | None, position: int) -> list[tuple[str, str]]:
    """(namespace, name) of every object of `kind` that existed at `position`; None: every namespace."""
    if namespace is None:
        c.execute("SELECT DISTINCT namespace, name FROM object_versions WHERE kind = ? AND position <= ?"
                  " ORDER BY namespace, name", (kind, position))
    else:
        c.execute("SELECT DISTINCT namespace, name FROM object_versions WHERE kind = ? AND namespace = ?"
                  " AND position <= ? ORDER BY name", (kind, namespace, position))
    return [(r[0], r[1]) for r in c.fetchall()]


def command_end(c: SQLiteCursor, position: int) -> int:
    """The last position of the command that wrote `position`: commands are atomic, so no
    reader ever saw a state in the middle of one."""
    c.execute("SELECT MAX(position) FROM audit_events WHERE correlation_id = (SELECT correlation_id FROM"
              " audit_events WHERE position <= ? ORDER BY position DESC LIMIT 1)", (position,))
    end = c.fetchone()[0]
    return max(end, position) if end is not None else position


def time_of(c: SQLiteCursor, position: int) -> str | None:
    c.execute("SELECT timestamp FROM audit_events WHERE position <= ? ORDER BY position DESC LIMIT 1", (position,))
    row = c.fetchone()
    return row[0] if row else None


def log(c: SQLiteCursor, *, namespace: str | None, since: str | None, until: str | None, actor: str | None,
        objects: list[str], tag: str | None, kinds: list[str], limit: int) -> list[dict[str, Any]]:
    where, params = [], []
    for column, value in (("namespace", namespace), ("actor", actor), ("tag", tag)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if since:
        where.append("timestamp >= ?")
        params.append(since)
    if until:
        where.append("timestamp <= ?")
        params.append(until)
    if objects:
        where.append(f"object IN ({','.join('?' * len(objects))})")
        params += objects
    if kinds:
        where.append("(" + " OR ".join("kind = ? OR kind LIKE ? OR kind LIKE ?" for _ in kinds) + ")")
        for kind in kinds:
            params += [kind, f"{kind}.%", f"%.{kind}"]
    sql = "SELECT * FROM audit_events" + (" WHERE " + " AND ".join(where) if where else "")
    c.execute(sql + " ORDER BY position DESC LIMIT ?", (*params, limit))
    return [dict(r) for r in c.fetchall()]
