"""A Kafka store with a topic per namespace (kafka://HOSTS/PREFIX{namespace}), on the real broker.

Every scenario test also runs on this store (tests/conftest.py STORES); these check what is
particular to it: where records go, the fences, reads across the shards, cross-namespace
triggers (docs/semantics.md §18.9), the push subscription and `migrate`.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone

import pytest
from conftest import Imagetrail, kafka_topics
from kafka import KafkaProducer
from test_kafka_store import raw_records

from imagetrail.engine.adapters.kafka.log import StoreUnavailable
from imagetrail.engine.adapters.kafka.shards import ShardedLog

A, B, C = (f"quay.io/org/app@sha256:{n:064x}" for n in (1, 2, 3))


@pytest.fixture
def sharded(capsys, tmp_path, monkeypatch, kafka_bootstrap) -> Imagetrail:
    template = f"imagetrail-test-{uuid.uuid4().hex[:12]}.{{namespace}}"
    monkeypatch.setenv("IMAGETRAIL_STORE", f"kafka://{kafka_bootstrap}/{template}")
    monkeypatch.setenv("IMAGETRAIL_KAFKA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("IMAGETRAIL_OFFLINE", "1")
    monkeypatch.setenv("IMAGETRAIL_ACTOR", "alice")
    return Imagetrail(capsys, "sharded", kafka=kafka_bootstrap, topic=template)


def shard(it: Imagetrail, namespace: str) -> str:
    return it.topic.replace("{namespace}", namespace)


def test_each_namespace_is_a_topic_and_a_store_of_its_own(sharded):
    sharded(f"-n shop tag {A} app:1")
    sharded(f"-n web tag {B} web:1")
    assert kafka_topics(sharded.kafka, sharded.topic) == [shard(sharded, "shop"), shard(sharded, "web")]
    shop_records = raw_records(sharded.kafka, shard(sharded, "shop"))
    assert {json.loads(r.value)["namespace"] for r in shop_records if b"Created" in dict(r.headers)["ce_type"]} \
        == {"shop"}
    # one shard, opened alone, is an ordinary single-topic store with the topic's own positions
    alone = f"--store kafka://{sharded.kafka}/{shard(sharded, 'shop')}"
    assert sharded(f"{alone} -n shop get is app -o name").out == "imagestream.image.openshift.io/app\n"
    assert sharded(f"{alone} -n web get is web", ok=False).code != 0
    assert [int(e["sequence"]) for e in map(json.loads, sharded(f"{alone} events tail").out.splitlines())] \
        == [r.offset + 1 for r in shop_records]


def test_a_namespace_writes_while_another_namespaces_writer_holds_its_fence(sharded):
    sharded(f"-n shop tag {A} app:1")
    sharded(f"-n web tag {A} web:1")
    # a writer of shop stalls inside its transaction (as a process stopped mid-commit would)
    stalled = KafkaProducer(bootstrap_servers=sharded.kafka, transactional_id=f"imagetrail-writer.{shard(sharded, 'shop')}")
    stalled.init_transactions()
    stalled.begin_transaction()
    stalled.send(shard(sharded, "shop"), key=b"stalled", value=b"{}").get(timeout=10)
    try:
        started = time.monotonic()
        sharded(f"-n web tag {B} web:1")  # another namespace: another fence, another topic
        assert time.monotonic() - started < 5
        assert sharded("-n web get istag web:1 -o jsonpath={.image.metadata.name}").out == f"sha256:{2:064x}"
        sharded(f"-n shop tag {B} app:1")  # its own namespace's next writer fences the stalled one
    finally:
        stalled.close(timeout=1)
    assert sharded("-n shop get istag app:1 -o jsonpath={.image.metadata.name}").out == f"sha256:{2:064x}"


def test_reads_merge_every_namespace(sharded):
    sharded(f"-n shop tag {A} app:1")
    between = datetime.fromtimestamp(int(time.time()) + 1, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    time.sleep(2.1)
    sharded(f"-n web tag {B} web:1")
    sharded(f"-n shop tag {C} app:1")
    entries = sharded("log -A -o json").json()["items"]
    assert {e["namespace"] for e in entries} == {"shop", "web"}
    positions = [e["position"] for e in entries]
    assert positions == sorted(positions, reverse=True) and len(set(positions)) == len(positions)
    assert [e["timestamp"] for e in entries] == sorted((e["timestamp"] for e in entries), reverse=True)
    # --at TIME reads every shard as it was then: shop had only A, web nothing yet
    at = f"--at {between}"
    assert sharded(f"-n shop get istag app:1 {at} -o jsonpath={{.image.metadata.name}}").out == f"sha256:{1:064x}"
    assert sharded(f"-n web get is web {at}", ok=False).code != 0


def cross_namespace(it: Imagetrail) -> None:
    """images/app:1 feeds deployment shop/web through an automatic trigger."""
    it(f"-n images tag {A} app:1")
    it(f"-n shop create deployment web --image {A}")
    it("-n shop set triggers deploy/web --from-image images/app:1 -c app")


def test_s18_9_a_tag_move_rolls_out_a_deployment_in_another_namespace(sharded):
    cross_namespace(sharded)
    result = sharded(f"-n images tag {B} app:1")
    assert "rolled out revision 2" in result.err
    assert sharded("-n shop get deploy web -o jsonpath={.spec.template.spec.containers[0].image}").out == B
    entries = sharded("log -A -o json").json()["items"]
    rollout = next(e for e in entries if e["summary"].startswith("revision 2"))
    command = [e for e in entries if e["correlationId"] == rollout["correlationId"]]  # one command, two writes
    assert {e["namespace"] for e in command} == {"images", "shop"}
    verified = sharded("verify").out.splitlines()
    assert len(verified) == 2 and all(line.startswith("ok: ") for line in verified)


def test_s18_9_a_failed_later_save_is_converged_by_the_next_command(sharded, monkeypatch):
    cross_namespace(sharded)
    append = ShardedLog.append

    def shop_unreachable(self, stored_events, namespace=None):
        if namespace == "shop":
            raise StoreUnavailable("Kafka broker at test did not answer (injected)")
        return append(self, stored_events, namespace)

    monkeypatch.setattr(ShardedLog, "append", shop_unreachable)
    failed = sharded.fails(f"-n images tag {B} app:1")
    assert failed.err.startswith("error: ") and "injected" in failed.err
    monkeypatch.setattr(ShardedLog, "append", append)
    # the tag moved (its own namespace's write), the Deployment's write did not happen
    assert sharded("-n images get istag app:1 -o jsonpath={.image.metadata.name}").out == f"sha256:{2:064x}"
    image = "-n shop get deploy web -o jsonpath={.spec.template.spec.containers[0].image}"
    assert sharded(image).out == A
    # the next command that loads the Deployment runs the controllers on it
    sharded("-n shop rollout pause deploy/web")
    sharded("-n shop rollout resume deploy/web")
    assert sharded(image).out == B


def test_a_subscription_follows_a_namespace_created_after_it(sharded):
    from imagetrail.engine.adapters.registry.resolver import Resolver
    from imagetrail.engine.adapters.store_urls import parse_store
    from imagetrail.engine.service.application import ImageTrail
    from imagetrail.engine.settings import Settings

    sharded(f"-n shop tag {A} app:1")
    app = ImageTrail(parse_store(Settings(store=f"kafka://{sharded.kafka}/{sharded.topic}")), Resolver())
    with app.recorder.subscribe(gt=app.recorder.max_notification_id()) as subscription:
        sharded(f"-n brand-new tag {B} new:1")
        written = time.monotonic()
        first = next(iter(subscription))
        assert time.monotonic() - written < 5
        assert json.loads(first.state)["namespace"] == "brand-new"


def test_migrate_a_single_topic_store_to_a_topic_per_namespace(sharded, kafka_bootstrap):
    single = f"kafka://{kafka_bootstrap}/imagetrail-test-{uuid.uuid4().hex[:12]}"
    source = f"--store {single}"
    sharded(f"{source} -n images tag {A} app:1")
    sharded(f"{source} -n shop create deployment web --image {A}")
    sharded(f"{source} -n shop set triggers deploy/web --from-image images/app:1 -c app")
    sharded(f"{source} -n images tag {B} app:1")  # one atomic write in the source: a tag move and a rollout
    sharded(f"{source} -n web tag {C} web:1")
    copied = sharded(f"{source} migrate --to kafka://{sharded.kafka}/{sharded.topic}").out.splitlines()
    events = len(sharded(f"{source} events tail").out.splitlines())
    assert copied[0].startswith(f"copied {events} events in ") and copied[0].endswith("(0 were there already)")
    assert sorted(line.rsplit("(", 1)[1] for line in copied[1:]) == \
        [f"{shard(sharded, ns)})" for ns in ("images", "shop", "web")]
    assert sum(int(line.split()[1]) for line in copied[1:]) == events
    # every namespace reads the same from the copy
    for ns, kind, name in (("images", "is", "app"), ("shop", "deploy", "web"), ("web", "is", "web")):
        assert sharded(f"-n {ns} get {kind} {name} -o json").json()["spec"] == \
            sharded(f"{source} -n {ns} get {kind} {name} -o json").json()["spec"]
    assert sharded("-n images history app:1 -o json").json()["items"][0]["to"]["image"] == f"sha256:{2:064x}"
    # the same events, by content: ids, versions, types and payloads
    def contents(args: str) -> list:
        return sorted((e["id"], json.dumps(e["data"], sort_keys=True)) for e in
                      map(json.loads, sharded(f"{args} events tail").out.splitlines()))
    assert contents(source) == contents("")
    again = sharded(f"{source} migrate --to kafka://{sharded.kafka}/{sharded.topic}").out.splitlines()
    assert again[0] == f"copied 0 events in 0 writes to kafka://{sharded.kafka}/{sharded.topic} " \
                       f"({events} were there already)"
    assert sharded.event_count() > 0 and all(line.startswith("ok: ") for line in again[1:])


def test_migrate_refuses_a_target_holding_other_events(sharded, tmp_path):
    sharded(f"--store sqlite:///{tmp_path}/a.db -n shop tag {A} app:1")
    sharded(f"-n shop tag {B} app:1")  # the target already has shop/app, with other content
    refused = sharded.fails(f"--store sqlite:///{tmp_path}/a.db migrate --to kafka://{sharded.kafka}/{sharded.topic}")
    assert refused.err.startswith("error: the target store has another event at ") and refused.err.count("\n") == 1
