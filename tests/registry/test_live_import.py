"""oc's import commands and the scheduled import controller against a real local registry."""

import base64
import json
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest

from registry_harness import LocalRegistry, push_image, push_index


@pytest.fixture
def live(imagetrail, monkeypatch, tmp_path):
    """The CLI with live registry lookups on, and only the auth file this test writes."""
    monkeypatch.delenv("IMAGETRAIL_OFFLINE")
    monkeypatch.delenv("IMAGETRAIL_MIRROR")
    auth = tmp_path / "auth.json"
    auth.write_text('{"auths": {}}')
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(auth))
    monkeypatch.setenv("IMAGETRAIL_REGISTRY_RETRIES", "0")
    imagetrail.auth_file = auth
    return imagetrail


def tag_status(imagetrail, stream: str, tag: str) -> dict:
    return next(t for t in imagetrail.stream(stream)["status"]["tags"] if t["tag"] == tag)


def test_tag_imports_the_digest_the_registry_has(live, registry, fresh_repo):
    digest = push_image(registry, fresh_repo, "1.0")
    source = f"{registry.address}/{fresh_repo}:1.0"
    assert live(f"tag --insecure {source} app:1.0").out == f"Tag app:1.0 set to {source}.\n"
    status = tag_status(live, "app", "1.0")
    assert status["items"][0]["image"] == digest
    assert status["items"][0]["dockerImageReference"] == f"{registry.address}/{fresh_repo}@{digest}"


def test_create_istag_and_import_image_follow_the_tag_upstream(live, registry, fresh_repo):
    first = push_image(registry, fresh_repo, "stable")
    source = f"{registry.address}/{fresh_repo}:stable"
    live(f"create istag app:stable --from-image {source} --insecure")
    assert tag_status(live, "app", "stable")["items"][0]["image"] == first
    second = push_image(registry, fresh_repo, "stable")
    out = live("import-image app:stable").out
    assert out.startswith("imagestream.image.openshift.io/app imported\n")
    assert [i["image"] for i in tag_status(live, "app", "stable")["items"]] == [second, first]


def test_import_modes_on_a_multi_arch_index(live, registry, fresh_repo):
    index, platforms = push_index(registry, fresh_repo, "multi")
    source = f"{registry.address}/{fresh_repo}:multi"
    live(f"tag --insecure {source} app:legacy")
    live(f"tag --insecure --import-mode PreserveOriginal {source} app:original")
    assert tag_status(live, "app", "legacy")["items"][0]["image"] == platforms["linux/amd64"]
    assert tag_status(live, "app", "original")["items"][0]["image"] == index


def test_legacy_imports_pick_the_clusters_platform_when_told(live, registry, fresh_repo, monkeypatch):
    _, platforms = push_index(registry, fresh_repo, "multi")
    monkeypatch.setenv("IMAGETRAIL_IMPORT_PLATFORM", "linux/arm64")
    live(f"tag --insecure {registry.address}/{fresh_repo}:multi app:arm")
    assert tag_status(live, "app", "arm")["items"][0]["image"] == platforms["linux/arm64"]
    monkeypatch.setenv("IMAGETRAIL_IMPORT_PLATFORM", "arm64")
    assert "IMAGETRAIL_IMPORT_PLATFORM=arm64 is not OS/ARCH" in live.fails("import-image app:arm").err


def test_a_missing_tag_is_recorded_as_a_failed_import_with_the_registrys_error(live, registry, fresh_repo):
    good = push_image(registry, fresh_repo, "1.0")
    live(f"tag --insecure {registry.address}/{fresh_repo}:1.0 app:1")
    result = live.fails(f"import-image app:1 --from {registry.address}/{fresh_repo}:2.0 --confirm")
    assert "use the 'tag' command" in result.err  # oc refuses to change the source of an existing tag
    result = live(f"tag --insecure {registry.address}/{fresh_repo}:gone app:1", ok=False)
    assert "MANIFEST_UNKNOWN: manifest unknown" in result.err
    status = tag_status(live, "app", "1")
    assert [i["image"] for i in status["items"]] == [good]  # the old head is kept
    condition = status["conditions"][0]
    assert (condition["type"], condition["status"], condition["reason"]) == ("ImportSuccess", "False", "NotFound")
    assert condition["message"] == (f'dockerimage.image.openshift.io "{registry.address}/{fresh_repo}:gone" '
                                    "not found: MANIFEST_UNKNOWN: manifest unknown")
    assert "! error: Import failed (NotFound)" in live("describe is app").out


def test_a_token_registry_with_credentials_from_the_auth_file(live, token_registry, fresh_repo):
    digest = push_image(token_registry, fresh_repo, "1.0", credentials=("alice", "s3cret"))
    source = f"{token_registry.address}/{fresh_repo}:1.0"
    live(f"tag --insecure {source} app:1", ok=False)
    assert tag_status(live, "app", "1")["conditions"][0]["reason"] == "Unauthorized"
    secret = base64.b64encode(b"alice:s3cret").decode()
    live.auth_file.write_text(json.dumps({"auths": {token_registry.address: {"auth": secret}}}))
    live("import-image app:1")
    assert tag_status(live, "app", "1")["items"][0]["image"] == digest
    # nothing of the credentials reaches the log
    assert "s3cret" not in live("log -o json").out and secret not in live("log -o json").out


# -- the scheduled import controller --------------------------------------------------------------

def trigger_on(live, source: str) -> None:
    """The lecture's set-up, on a scheduled tag from the local registry."""
    live(f"tag --scheduled --insecure {source} app:stable")
    live("set image-lookup app")
    live("create deployment web --image app:stable")
    live("set triggers deployment/web --from-image app:stable --containers app")


def test_scheduled_import_rolls_out_a_new_upstream_digest_and_then_writes_nothing(live, registry, fresh_repo):
    source = f"{registry.address}/{fresh_repo}:stable"
    first = push_image(registry, fresh_repo, "stable")
    trigger_on(live, source)
    assert live.image("web", "app") == f"{registry.address}/{fresh_repo}@{first}"

    second = push_image(registry, fresh_repo, "stable")  # the image moves upstream
    before = live.event_count()
    result = live("controller --once --interval 1s --max-per-minute 6000")
    assert f"imported demo/app:stable {second} (was {first})" in result.err
    assert "deployment.apps/web rolled out revision 2" in result.err
    assert live.image("web", "app") == f"{registry.address}/{fresh_repo}@{second}"
    assert [i["image"] for i in tag_status(live, "app", "stable")["items"]] == [second, first]
    history = live("history app:stable -o json").json()
    newest = history["items"][0]
    assert "image-import-controller" in json.dumps(newest)
    assert live.event_count() > before

    written = live.event_count()
    result = live("controller --once --interval 1s --max-per-minute 6000 -v")
    assert "0 tags imported, 1 streams unchanged, 0 failures" in result.err
    assert "demo/app: no scheduled tag moved upstream" in result.err
    assert live.event_count() == written


def test_scheduled_import_records_an_outage_once_and_recovers(live, fresh_repo):
    with LocalRegistry() as upstream:
        upstream.start()
        source = f"{upstream.address}/{fresh_repo}:stable"
        first = push_image(upstream, fresh_repo, "stable")
        trigger_on(live, source)
        upstream.stop()

        result = live("controller --once --interval 1s", ok=False)
        assert result.code == 1
        assert "connection refused" in result.err
        condition = tag_status(live, "app", "stable")["conditions"][0]
        assert (condition["reason"], condition["status"]) == ("InternalError", "False")
        assert live.image("web", "app") == f"{upstream.address}/{fresh_repo}@{first}"
        written = live.event_count()
        live("controller --once --interval 1s", ok=False)  # the same failure again: nothing new to say
        assert live.event_count() == written

        upstream.start()
        live("controller --once --interval 1s")
        assert "conditions" not in tag_status(live, "app", "stable")  # the registry is back: failure cleared
        assert live.image("web", "app") == f"{upstream.address}/{fresh_repo}@{first}"


def test_only_scheduled_tags_are_reimported(live, registry, fresh_repo):
    first = push_image(registry, fresh_repo, "1")
    live(f"tag --insecure {registry.address}/{fresh_repo}:1 app:manual")
    push_image(registry, fresh_repo, "1")
    assert "0 image streams with scheduled tags" in live("controller --once").err
    assert tag_status(live, "app", "manual")["items"][0]["image"] == first


class Controller:
    """`imagetrail controller` as the long-lived process it is, its log read as it goes."""

    def __init__(self, *args: str):
        self.process = subprocess.Popen([sys.executable, "-m", "imagetrail", "controller", *args],
                                        stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=lambda: [self.lines.put(line) for line in self.process.stderr], daemon=True).start()

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.log.append(self.lines.get(timeout=0.2))
            except queue.Empty:
                continue
            if text in self.log[-1]:
                return
        raise AssertionError(f"the controller never logged {text!r}:\n{''.join(self.log)}")

    def terminate(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # never leave a controller behind the test
            self.process.kill()
            raise
        time.sleep(0.2)  # let the reader thread drain the pipe
        while not self.lines.empty():
            self.log.append(self.lines.get())
        return "".join(self.log)


@pytest.mark.sqlite_only
def test_the_controller_stops_cleanly_on_sigterm(live, registry, fresh_repo):
    push_image(registry, fresh_repo, "stable")
    live(f"tag --scheduled --insecure {registry.address}/{fresh_repo}:stable app:stable")
    controller = Controller("--interval", "1h")
    try:
        controller.wait_for("next cycle in 59m")
    finally:
        log = controller.terminate()
    assert controller.process.returncode == 0
    assert "SIGTERM received" in log and log.rstrip().endswith("stopped")


def test_a_running_controller_and_users_commands_share_the_store(live, registry, fresh_repo):
    """On Kafka every writer fences the last one; the long-lived controller must write again after."""
    source = f"{registry.address}/{fresh_repo}:stable"
    first = push_image(registry, fresh_repo, "stable")
    trigger_on(live, source)
    controller = Controller("--interval", "1s", "--max-per-minute", "6000")
    try:
        controller.wait_for("cycle 1 done")
        other = push_image(registry, fresh_repo, "other")
        live(f"tag --insecure {registry.address}/{fresh_repo}:other other:1")  # a user writes meanwhile
        second = push_image(registry, fresh_repo, "stable")
        controller.wait_for(f"imported demo/app:stable {second} (was {first})")
        controller.wait_for("deployment.apps/web rolled out revision 2")
    finally:
        log = controller.terminate()
    assert controller.process.returncode == 0, log
    assert live.image("web", "app") == f"{registry.address}/{fresh_repo}@{second}"
    assert tag_status(live, "other", "1")["items"][0]["image"] == other


def test_a_cluster_dump_with_a_scheduled_tag_keeps_following_its_registry(live, registry, fresh_repo, tmp_path):
    """A stream imported from `oc get is -o yaml` picks up where the cluster left off."""
    first = push_image(registry, fresh_repo, "stable")
    source = f"{registry.address}/{fresh_repo}:stable"
    dump = tmp_path / "cluster.yaml"
    dump.write_text(f"""\
apiVersion: image.openshift.io/v1
kind: ImageStream
metadata:
  name: app
  namespace: demo
  generation: 2
  creationTimestamp: "2026-01-05T10:00:00Z"
spec:
  lookupPolicy:
    local: true
  tags:
  - name: stable
    from:
      kind: DockerImage
      name: {source}
    generation: 2
    importPolicy:
      scheduled: true
      insecure: true
      importMode: Legacy
    referencePolicy:
      type: Source
status:
  dockerImageRepository: image-registry.openshift-image-registry.svc:5000/demo/app
  tags:
  - tag: stable
    items:
    - created: "2026-01-05T10:00:05Z"
      dockerImageReference: {registry.address}/{fresh_repo}@{first}
      image: {first}
      generation: 2
""")
    live(f"import -f {dump}")
    assert live("controller --once").err.count("1 streams unchanged") == 1  # nothing moved upstream yet
    second = push_image(registry, fresh_repo, "stable")
    live("controller --once")
    items = tag_status(live, "app", "stable")["items"]
    assert [i["image"] for i in items] == [second, first]
    assert items[1]["created"] == "2026-01-05T10:00:05Z"


def test_a_rollback_holds_against_the_scheduled_import(live, registry, fresh_repo):
    """Rolling back pins the digest and switches scheduling off: the controller cannot undo it."""
    source = f"{registry.address}/{fresh_repo}:stable"
    good = push_image(registry, fresh_repo, "stable")
    trigger_on(live, source)
    bad = push_image(registry, fresh_repo, "stable")
    live("controller --once")
    assert live.image("web", "app").endswith(bad)

    live("rollback app:stable --steps 1 --reason 'bad build'")
    assert live.image("web", "app").endswith(good)
    push_image(registry, fresh_repo, "stable")  # upstream keeps moving
    assert "0 image streams with scheduled tags" in live("controller --once").err
    assert live.image("web", "app").endswith(good)
    # putting the schedule back is an explicit, recorded decision
    live(f"tag --scheduled --insecure {source} app:stable")
    assert not live.image("web", "app").endswith(good)


# -- bad settings: one line naming the fix, nothing written ----------------------------------------

def test_bad_registry_settings_are_refused_before_anything_is_written(live, registry, fresh_repo, monkeypatch):
    push_image(registry, fresh_repo, "1.0")
    command = f"tag --insecure {registry.address}/{fresh_repo}:1.0 app:1"
    monkeypatch.setenv("IMAGETRAIL_REGISTRY_TIMEOUT", "soon")
    assert live.fails(command).err == ("error: IMAGETRAIL_REGISTRY_TIMEOUT=soon is not a number of 0 or more; "
                                       "fix or unset it\n")
    monkeypatch.delenv("IMAGETRAIL_REGISTRY_TIMEOUT")
    monkeypatch.setenv("REGISTRY_AUTH_FILE", "/nonexistent/auth.json")
    assert live.fails(command).err == ("error: REGISTRY_AUTH_FILE=/nonexistent/auth.json does not exist "
                                       "(create it with `podman login --authfile`, or unset the variable)\n")
    live.auth_file.write_text("{not json")
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(live.auth_file))
    err = live.fails(command).err
    assert err.startswith(f"error: registry auth file {live.auth_file} is not valid JSON") and err.count("\n") == 1
    assert live.event_count() == 0
