"""A broker with TLS and SASL/SCRAM-SHA-512 and an authorizer (`compose/kafka-local start --secure`):
the lecture workflow through the settings the README documents, a wrong password and an untrusted
CA each refused in one clear line, a principal without write access to the transactional id
refused without writing, and the password nowhere it should not be."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT
from kafka import KafkaAdminClient
from kafka.admin import ACL, ACLOperation, ACLPermissionType, ResourcePattern, ResourceType
from test_kafka_store import new_topic, raw_records

from imagetrail.cli.demo import STEPS

TIMEOUT = 10


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    home = tmp_path_factory.mktemp("secured")
    env = {**os.environ, "KAFKA_LOCAL_HOME": str(home)}
    shared = Path(os.environ.get("KAFKA_LOCAL_HOME", ROOT / "compose" / ".kafka")) / "libs"
    if (shared / ".complete").exists():
        env["KAFKA_LOCAL_LIBS"] = str(shared)
    started = subprocess.run([ROOT / "compose" / "kafka-local", "start", "--secure"], env=env, capture_output=True,
                             text=True, timeout=300)
    assert started.returncode == 0, started.stderr
    yield started.stdout.strip().splitlines()[-1], home / "secure"
    subprocess.run([ROOT / "compose" / "kafka-local", "stop"], env=env, capture_output=True, timeout=120)


def admin(bootstrap: str, secure: Path) -> KafkaAdminClient:
    return KafkaAdminClient(bootstrap_servers=[bootstrap], security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512",
                            sasl_plain_username="admin", sasl_plain_password=(secure / "admin.password").read_text().strip(),
                            ssl_cafile=str(secure / "ca.pem"))


def grant(bootstrap: str, secure: Path, user: str, topic: str, *, write: bool) -> None:
    """What the README's "Kafka ACLs" lists: a writer gets the topic and its transactional id, a
    reader the topic only."""
    def acl(kind, name, operation):
        return ACL(f"User:{user}", "*", operation, ACLPermissionType.ALLOW, ResourcePattern(kind, name))

    acls = [acl(ResourceType.CLUSTER, "kafka-cluster", ACLOperation.DESCRIBE)]
    acls += [acl(ResourceType.TOPIC, topic, op) for op in (ACLOperation.READ, ACLOperation.DESCRIBE,
                                                            ACLOperation.DESCRIBE_CONFIGS)]
    if write:
        acls += [acl(ResourceType.TOPIC, topic, op) for op in (ACLOperation.WRITE, ACLOperation.CREATE)]
        acls += [acl(ResourceType.TRANSACTIONAL_ID, f"imagetrail-writer.{topic}", op)
                 for op in (ACLOperation.WRITE, ACLOperation.DESCRIBE)]
    client = admin(bootstrap, secure)
    try:
        result = client.create_acls(acls)
        assert not result["failed"], result["failed"]
    finally:
        client.close()
    time.sleep(1)  # ACLs reach the broker through the metadata log


def cli(bootstrap: str, topic: str, config: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "IMAGETRAIL_KAFKA_CONFIG": str(config), "IMAGETRAIL_KAFKA_TIMEOUT": str(TIMEOUT),
           "IMAGETRAIL_KAFKA_CACHE_DIR": str(tmp_path / "cache"), "IMAGETRAIL_OFFLINE": "1",
           "IMAGETRAIL_MIRROR": str(ROOT / "cli" / "demo-mirror.json")}
    return subprocess.run([sys.executable, "-m", "imagetrail", "--store", f"kafka://{bootstrap}/{topic}", "-n", "demo",
                           *args], env=env, capture_output=True, text=True, timeout=120)


def test_the_lecture_workflow_runs_on_the_secured_listener(secured, tmp_path):
    bootstrap, secure = secured
    topic = new_topic()
    grant(bootstrap, secure, "imagetrail", topic, write=True)
    password = (secure / "imagetrail.password").read_text().strip()
    for _, step in STEPS:
        done = cli(bootstrap, topic, secure / "imagetrail.properties", tmp_path, *shlex.split(step))
        assert done.returncode == 0, f"{step}: {done.stderr}"
        assert password not in done.stdout + done.stderr
    history = cli(bootstrap, topic, secure / "imagetrail.properties", tmp_path, "rollout", "history",
                  "deployment/mykeycloak")
    assert history.returncode == 0 and "image trigger keycloak:20" in history.stdout, history.stderr
    records = raw_records_secured(bootstrap, secure, topic)
    assert records and not any(password.encode() in r.value or any(password.encode() in v for _, v in r.headers)
                               for r in records)
    for path in (tmp_path / "cache").rglob("*"):  # the local cache and the projections
        if path.is_file():
            assert password.encode() not in path.read_bytes(), path


def raw_records_secured(bootstrap: str, secure: Path, topic: str) -> list:
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=[bootstrap], security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512",
                             sasl_plain_username="admin",
                             sasl_plain_password=(secure / "admin.password").read_text().strip(),
                             ssl_cafile=str(secure / "ca.pem"), isolation_level="read_committed",
                             enable_auto_commit=False, auto_offset_reset="earliest")
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    end, records = consumer.end_offsets([tp])[tp], []
    while consumer.position(tp) < end:
        for batch in consumer.poll(timeout_ms=500).values():
            records += batch
    consumer.close()
    return records


def test_a_wrong_password_is_refused_in_one_line_naming_the_user(secured, tmp_path):
    bootstrap, secure = secured
    wrong = tmp_path / "wrong.properties"
    wrong.write_text((secure / "imagetrail.properties").read_text().replace(
        (secure / "imagetrail.password").read_text().strip(), "not-the-password"))
    started = time.monotonic()
    done = cli(bootstrap, new_topic(), wrong, tmp_path, "get", "is")
    assert done.returncode == 1 and time.monotonic() - started <= TIMEOUT + 5
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "authentication failed for user imagetrail with SCRAM-SHA-512" in done.stderr, done.stderr
    assert "not-the-password" not in done.stderr


def test_an_untrusted_ca_is_refused_in_one_line_naming_the_cafile(secured, tmp_path):
    bootstrap, secure = secured
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=other",
                    "-keyout", str(tmp_path / "other.key"), "-out", str(tmp_path / "other.pem")],
                   check=True, capture_output=True)
    untrusting = tmp_path / "untrusting.properties"
    untrusting.write_text((secure / "imagetrail.properties").read_text().replace(
        str(secure / "ca.pem"), str(tmp_path / "other.pem")))
    started = time.monotonic()
    done = cli(bootstrap, new_topic(), untrusting, tmp_path, "get", "is")
    assert done.returncode == 1 and time.monotonic() - started <= TIMEOUT + 5
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert f"not trusted by the CA in ssl.cafile {tmp_path / 'other.pem'}" in done.stderr, done.stderr


def test_a_principal_without_write_access_to_the_transactional_id_writes_nothing(secured, tmp_path):
    bootstrap, secure = secured
    topic = new_topic()
    grant(bootstrap, secure, "imagetrail", topic, write=True)
    first = cli(bootstrap, topic, secure / "imagetrail.properties", tmp_path / "w", "tag",
                "quay.io/keycloak/keycloak:20.0.2", "keycloak:20")
    assert first.returncode == 0, first.stderr
    grant(bootstrap, secure, "reader", topic, write=False)
    before = len(raw_records_secured(bootstrap, secure, topic))
    read = cli(bootstrap, topic, secure / "reader.properties", tmp_path / "r", "get", "istag", "keycloak:20",
               "-o", "name")
    assert read.returncode == 0 and read.stdout.strip() == "imagestreamtag.image.openshift.io/keycloak:20", read.stderr
    refused = cli(bootstrap, topic, secure / "reader.properties", tmp_path / "r", "tag",
                  "quay.io/keycloak/keycloak:20.0.3", "keycloak:20")
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1, refused.stderr
    assert "reader is not authorized on the transactional id" in refused.stderr, refused.stderr
    assert len(raw_records_secured(bootstrap, secure, topic)) == before


def test_the_password_is_in_no_process_listing(secured, tmp_path):
    bootstrap, secure = secured
    topic = new_topic()
    grant(bootstrap, secure, "imagetrail", topic, write=True)
    password = (secure / "imagetrail.password").read_text().strip()
    assert cli(bootstrap, topic, secure / "imagetrail.properties", tmp_path, "tag", "quay.io/keycloak/keycloak:20.0.2",
               "keycloak:20").returncode == 0
    env = {**os.environ, "IMAGETRAIL_KAFKA_CONFIG": str(secure / "imagetrail.properties"),
           "IMAGETRAIL_KAFKA_CACHE_DIR": str(tmp_path / "cache")}
    follower = subprocess.Popen([sys.executable, "-m", "imagetrail", "--store", f"kafka://{bootstrap}/{topic}",
                                 "events", "tail", "--follow"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    try:
        time.sleep(3)
        listing = subprocess.run(["ps", "-ww", "-eo", "args"], capture_output=True, text=True).stdout
        assert follower.poll() is None and f"kafka://{bootstrap}/{topic}" in listing  # it is listed
        assert password not in listing
    finally:
        follower.terminate()
        follower.wait(timeout=30)
