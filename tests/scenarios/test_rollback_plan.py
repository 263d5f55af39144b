"""The rollback plan is data from the domain: each Deployment that runs or follows a rolled-back
tag, which container, which trigger (and the alias chain it follows through), what happens and
why. `--dry-run` prints the very plan the real rollback carries out, as text and with -o json."""

import json

from conftest import A, B, KEYCLOAK, SNAPSHOT

from imagetrail.engine.domain import rollback_plan as rollback
from imagetrail.engine.service.application import ImageTrail, UnitOfWork
from imagetrail.engine.service.deployments import Deployments
from imagetrail.engine.domain.trigger_definition import TriggerChange
from imagetrail.engine.domain.deployment import Cause, Deployment
from imagetrail.engine.domain.imagestream import ImageStream
from imagetrail.engine.domain.model import DOCKER_IMAGE, ObjectReference
from imagetrail.engine.adapters.registry.resolver import Resolver
from imagetrail.engine.adapters.store_urls import parse_store
from imagetrail.engine.settings import Settings

TRIGGER_PATH = 'spec.template.spec.containers[?(@.name=="keycloak")].image'


def lines(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.startswith("  ")]


def fates(document: dict) -> dict[str, dict]:
    """The plan's fates by "deployment/container"."""
    return {f"{f['deployment']}/{f['container']}": f for f in document["deployments"]}


def rolled_back(keycloak, command: str) -> tuple[dict, list[str]]:
    """Dry run as JSON and as text, then the real rollback as JSON and as text; both must agree."""
    dry = keycloak(f"{command} --dry-run -o json").json()
    dry_text = keycloak(f"{command} --dry-run").out
    assert dry["dry_run"] is True and "(dry run: nothing was written)" in dry_text
    real = keycloak(f"{command} -o json").json()
    assert {**real, "dry_run": True} == dry          # the plan printed by --dry-run is what happened
    return real, lines(dry_text)


def moved_to_b(keycloak) -> None:
    keycloak(f"tag {KEYCLOAK}:20.0.3 keycloak:20")  # 20 now runs B; a rollback --steps 1 goes back to A


def test_a_deployment_whose_automatic_trigger_follows_the_tag_rolls_out(keycloak):
    moved_to_b(keycloak)
    plan, text = rolled_back(keycloak, "rollback keycloak:20 --steps 1")
    assert plan["tags"] == [{
        "namespace": "demo", "stream": "keycloak", "tag": "20", "change": "rollback",
        "source": plan["tags"][0]["source"], "from_pull_spec": f"{KEYCLOAK}@{B}", "to_pull_spec": f"{KEYCLOAK}@{A}",
        "from_image": B, "to_image": A}]
    assert fates(plan) == {"mykeycloak/keycloak": {
        "namespace": "demo", "deployment": "mykeycloak", "container": "keycloak", "tag": "keycloak:20",
        "fate": "rolls-out", "reason": "TriggerFollows",
        "trigger": {"istag": "keycloak:20", "namespace": "demo", "mode": "auto", "via": ["keycloak:20"]},
        "image_before": f"{KEYCLOAK}@{B}", "image_after": f"{KEYCLOAK}@{A}", "revision": 3, "message": ""}}
    assert text == [f"tag keycloak:20 (rollback): {KEYCLOAK}@{B} → {KEYCLOAK}@{A}",
                    f"deployment/mykeycloak: rolls out revision 3 (keycloak={KEYCLOAK}@{A})"]
    assert keycloak.image() == f"{KEYCLOAK}@{A}"


def test_a_paused_deployment_changes_its_template_only(keycloak):
    keycloak("create deployment paused --image keycloak:20")
    keycloak("set triggers deployment/paused --from-image keycloak:20 --containers keycloak")
    moved_to_b(keycloak)
    keycloak("rollout pause deployment/paused")
    plan, text = rolled_back(keycloak, "rollback keycloak:20 --steps 1")
    fate = fates(plan)["paused/keycloak"]
    assert (fate["fate"], fate["reason"], fate["trigger"]["mode"], fate["revision"]) == \
        ("template-only", "DeploymentPaused", "auto", None)
    assert (fate["image_before"], fate["image_after"]) == (f"{KEYCLOAK}@{B}", f"{KEYCLOAK}@{A}")
    assert f"deployment/paused: template only (keycloak={KEYCLOAK}@{A}); the Deployment is paused and rolls " \
           "out on resume" in text
    assert keycloak.image("paused") == f"{KEYCLOAK}@{A}"
    revision = keycloak("get deployment paused -o json").json()["metadata"]["annotations"]
    assert revision["deployment.kubernetes.io/revision"] == "2"  # not rolled out: revision 2 (B) still runs


def test_a_manual_trigger_does_not_follow(keycloak):
    keycloak("create deployment manual --image keycloak:20")
    keycloak("set triggers deployment/manual --from-image keycloak:20 --containers keycloak")
    moved_to_b(keycloak)
    keycloak("set triggers deployment/manual --from-image keycloak:20 --containers keycloak --manual")
    plan, text = rolled_back(keycloak, "rollback keycloak:20 --steps 1")
    fate = fates(plan)["manual/keycloak"]
    assert (fate["fate"], fate["reason"], fate["trigger"]) == ("not-followed", "TriggerManual", {
        "istag": "keycloak:20", "namespace": "demo", "mode": "manual", "via": ["keycloak:20"]})
    assert fate["image_before"] == fate["image_after"] == f"{KEYCLOAK}@{B}"
    assert "deployment/manual: unchanged (its trigger on keycloak:20 is manual)" in text
    assert keycloak.image("manual") == f"{KEYCLOAK}@{B}"


def test_a_paused_trigger_in_the_annotation_does_not_follow(keycloak, tmp_path):
    """`"paused": true` is how the annotation says manual (oc set triggers --manual writes it); a
    Deployment applied with it by hand, and one whose every trigger is made manual (which also pauses
    the Deployment, as oc does), both stay where they are."""
    moved_to_b(keycloak)
    annotation = json.dumps([{"from": {"kind": "ImageStreamTag", "name": "keycloak:20"},
                              "fieldPath": TRIGGER_PATH, "paused": True}])
    manifest = tmp_path / "held.json"
    manifest.write_text(json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "held", "annotations": {"image.openshift.io/triggers": annotation}},
        "spec": {"selector": {"matchLabels": {"app": "held"}}, "template": {
            "metadata": {"labels": {"app": "held"}},
            "spec": {"containers": [{"name": "keycloak", "image": f"{KEYCLOAK}@{B}"}]}}}}))
    keycloak(f"apply -f {manifest}")
    keycloak("create deployment allmanual --image keycloak:20")
    keycloak("set triggers deployment/allmanual --from-image keycloak:20 --containers keycloak")
    keycloak("set triggers deployment/allmanual --manual")
    assert keycloak("get deployment allmanual -o json").json()["spec"].get("paused") is True
    plan, text = rolled_back(keycloak, "rollback keycloak:20 --steps 1")
    for name in ("held", "allmanual"):
        fate = fates(plan)[f"{name}/keycloak"]
        assert (fate["fate"], fate["reason"], fate["trigger"]["mode"]) == ("not-followed", "TriggerManual", "manual")
        assert f"deployment/{name}: unchanged (its trigger on keycloak:20 is manual)" in text
        assert keycloak.image(name) == f"{KEYCLOAK}@{B}"


def test_a_deployment_without_a_trigger_keeps_running_the_image(keycloak):
    moved_to_b(keycloak)
    keycloak(f"create deployment pinned --image {KEYCLOAK}@{B}")  # runs what keycloak:20 has now, follows nothing
    keycloak(f"create deployment elsewhere --image {KEYCLOAK}:21.0.0")  # runs something else: not in the plan
    plan, text = rolled_back(keycloak, "rollback keycloak:20 --steps 1")
    assert fates(plan)["pinned/keycloak"] == {
        "namespace": "demo", "deployment": "pinned", "container": "keycloak", "tag": "keycloak:20",
        "fate": "no-trigger", "reason": "NoTrigger", "trigger": None,
        "image_before": f"{KEYCLOAK}@{B}", "image_after": f"{KEYCLOAK}@{B}", "revision": None, "message": ""}
    assert "elsewhere/keycloak" not in fates(plan)
    assert f"deployment/pinned: unchanged (no trigger follows keycloak:20; it keeps running {KEYCLOAK}@{B})" in text
    assert keycloak.image("pinned") == f"{KEYCLOAK}@{B}"


def test_a_trigger_through_an_alias_chain_follows_the_rolled_back_tag(keycloak):
    # 20 → 20.0.2 (the fixture's alias), stable → 20; web follows stable
    keycloak("tag --alias keycloak:20 keycloak:stable")
    keycloak("create deployment web --image keycloak:stable")
    keycloak("set triggers deployment/web --from-image keycloak:stable --containers keycloak")
    keycloak(f"tag {KEYCLOAK}:20.0.3 keycloak:20.0.2")  # 20.0.2, 20 and stable move to B
    assert keycloak.image("web") == f"{KEYCLOAK}@{B}"
    dry = keycloak("rollback keycloak:20 --steps 1 --dry-run -o json").json()
    assert fates(dry)["web/keycloak"]["trigger"]["via"] == ["keycloak:stable", "keycloak:20"]
    plan, text = rolled_back(keycloak, "rollback keycloak:20.0.2 --steps 1")
    assert [(t["tag"], t["change"], t["source"]) for t in plan["tags"]] == [
        ("20.0.2", "rollback", plan["tags"][0]["source"]), ("20", "followed", "keycloak:20.0.2"),
        ("stable", "followed", "keycloak:20")]
    web, mine = fates(plan)["web/keycloak"], fates(plan)["mykeycloak/keycloak"]
    assert (web["fate"], web["tag"], web["trigger"]) == ("rolls-out", "keycloak:20.0.2", {
        "istag": "keycloak:stable", "namespace": "demo", "mode": "auto",
        "via": ["keycloak:stable", "keycloak:20", "keycloak:20.0.2"]})
    assert mine["trigger"]["via"] == ["keycloak:20", "keycloak:20.0.2"]
    assert f"deployment/web: rolls out revision 3 (keycloak={KEYCLOAK}@{A}); its trigger follows keycloak:stable " \
           "→ keycloak:20 → keycloak:20.0.2" in text
    assert keycloak.image("web") == f"{KEYCLOAK}@{A}"


def test_a_follower_is_never_called_triggerless_when_the_tag_does_not_move(keycloak):
    """The plan once said `no trigger follows keycloak:20` of a Deployment whose automatic trigger
    follows it: a rollback to the image the tag already has moves nothing."""
    keycloak("tag --alias keycloak:20 keycloak:stable")
    keycloak("create deployment web --image keycloak:stable")
    keycloak("set triggers deployment/web --from-image keycloak:stable --containers keycloak")
    position = json.loads(keycloak("history keycloak:20 -o json").out)["items"][0]["position"]
    for command in (f"rollback keycloak:20 --to-position {position}", f"rollback --all --to-position {position}"):
        text = lines(keycloak(command).out)
        assert not any("no trigger follows" in line for line in text)
        assert text[0] == "nothing to change"
        assert "deployment/web: unchanged (it already runs that image)" in text
        plan = keycloak(f"{command} --dry-run -o json").json()
        assert plan["tags"] == []
        for name in ("mykeycloak", "web"):
            fate = fates(plan)[f"{name}/keycloak"]
            assert (fate["fate"], fate["reason"], fate["trigger"]["mode"]) == ("unchanged", "AlreadyRunsImage", "auto")


def test_the_dry_run_text_is_the_real_run_text(keycloak):
    """The plan is computed before the save, in both runs: a bystander found after the write (with the
    tag already moved) was a different one."""
    moved_to_b(keycloak)
    keycloak(f"create deployment on-b --image {KEYCLOAK}@{B}")
    keycloak(f"create deployment on-a --image {KEYCLOAK}@{A}")
    dry = lines(keycloak("rollback keycloak:20 --steps 1 --dry-run").out)
    real = lines(keycloak("rollback keycloak:20 --steps 1").out)
    assert real == dry
    assert f"deployment/on-b: unchanged (no trigger follows keycloak:20; it keeps running {KEYCLOAK}@{B})" in real
    assert not any(line.startswith("deployment/on-a") for line in real)


def test_a_trigger_on_another_tag_is_named_and_each_container_has_its_fate(keycloak, tmp_path):
    moved_to_b(keycloak)
    keycloak(f"tag {KEYCLOAK}:20.0.3 keycloak:other")  # the same image B, under another tag that stays
    manifest = tmp_path / "pair.json"
    manifest.write_text(json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "pair", "annotations": {"image.openshift.io/triggers": json.dumps([
            {"from": {"kind": "ImageStreamTag", "name": "keycloak:20"}, "fieldPath": TRIGGER_PATH},
            {"from": {"kind": "ImageStreamTag", "name": "keycloak:other"},
             "fieldPath": 'spec.template.spec.containers[?(@.name=="sidecar")].image'}])}},
        "spec": {"selector": {"matchLabels": {"app": "pair"}}, "template": {
            "metadata": {"labels": {"app": "pair"}},
            "spec": {"containers": [{"name": "keycloak", "image": f"{KEYCLOAK}@{B}"},
                                    {"name": "sidecar", "image": f"{KEYCLOAK}@{B}"},
                                    {"name": "pinned", "image": f"{KEYCLOAK}@{B}"}]}}}}))
    keycloak(f"apply -f {manifest}")
    plan, text = rolled_back(keycloak, "rollback keycloak:20 --steps 1")
    pair = {name: (f["fate"], f["reason"]) for name, f in fates(plan).items() if name.startswith("pair/")}
    assert pair == {"pair/keycloak": ("rolls-out", "TriggerFollows"),
                    "pair/sidecar": ("not-followed", "TriggerFollowsOtherTag"),
                    "pair/pinned": ("no-trigger", "NoTrigger")}
    assert fates(plan)["pair/sidecar"]["trigger"] == {"istag": "keycloak:other", "namespace": "demo",
                                                      "mode": "auto", "via": []}
    assert [line for line in text if line.startswith("deployment/pair")] == [
        f"deployment/pair: rolls out revision 2 (keycloak={KEYCLOAK}@{A})",
        f"deployment/pair container sidecar: unchanged (its trigger follows keycloak:other, not keycloak:20; "
        f"it keeps running {KEYCLOAK}@{B})",
        f"deployment/pair container pinned: unchanged (no trigger follows keycloak:20; it keeps running "
        f"{KEYCLOAK}@{B})"]


def test_a_trigger_the_controller_cannot_apply_is_named_with_its_error(keycloak, tmp_path):
    moved_to_b(keycloak)
    manifest = tmp_path / "typo.json"
    manifest.write_text(json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "typo", "annotations": {"image.openshift.io/triggers": json.dumps([
            {"from": {"kind": "ImageStreamTag", "name": "keycloak:20"},
             "fieldPath": 'spec.template.spec.containers[?(@.name=="keycloack")].image'}])}},
        "spec": {"selector": {"matchLabels": {"app": "typo"}}, "template": {
            "metadata": {"labels": {"app": "typo"}},
            "spec": {"containers": [{"name": "keycloak", "image": f"{KEYCLOAK}@{B}"}]}}}}))
    keycloak(f"apply -f {manifest}")
    plan, text = rolled_back(keycloak, "rollback keycloak:20 --steps 1")
    broken = fates(plan)["typo/"]
    assert (broken["fate"], broken["reason"], broken["message"], broken["trigger"]["istag"]) == \
        ("not-followed", "TriggerInvalid", "no such container: keycloack", "keycloak:20")
    assert fates(plan)["typo/keycloak"]["fate"] == "no-trigger"
    assert "deployment/typo: unchanged (its image trigger on keycloak:20 is not applied: no such container: " \
           "keycloack)" in text
    assert keycloak.image("typo") == f"{KEYCLOAK}@{B}"


def test_restore_spec_prints_its_plan_as_data(keycloak):
    position = json.loads(keycloak("log --limit 1 -o json").out)["items"][0]["position"]
    moved_to_b(keycloak)
    plan = keycloak(f"rollback keycloak:20 --restore-spec --to-position {position} -o json").json()
    assert [(t["tag"], t["to_image"]) for t in plan["tags"]] == [("20", A)]
    mine = fates(plan)["mykeycloak/keycloak"]
    assert (mine["fate"], mine["image_after"], mine["revision"]) == ("rolls-out", f"{KEYCLOAK}@{A}", 3)
    assert keycloak.image() == f"{KEYCLOAK}@{A}"


# -- the engine's plan function on aggregates, without the CLI ----------------------------------

def test_the_plan_function_derives_every_fate_from_aggregates():
    app = ImageTrail(parse_store(Settings(store="memory://")), Resolver(SNAPSHOT))
    deployments = Deployments(app)
    ns = "demo"
    app.create_istag(ns, "keycloak:20.0.2", source=ObjectReference(kind=DOCKER_IMAGE, name=f"{KEYCLOAK}:20.0.2"))
    app.set_image_lookup(ns, ["keycloak"])
    app.tag(ns, "keycloak:20.0.2", ["keycloak:20"], alias=True)
    app.tag(ns, "keycloak:20", ["keycloak:stable"], alias=True)
    for name, follows in (("web", "keycloak:stable"), ("paused", "keycloak:20"), ("manual", "keycloak:20")):
        deployments.create_deployment(ns, name, ["keycloak:20"])
        deployments.set_triggers(ns, name, TriggerChange(follows, containers=("keycloak",)))
    deployments.create_deployment(ns, "pinned", [f"{KEYCLOAK}@{B}"])
    app.tag(ns, f"{KEYCLOAK}:20.0.3", ["keycloak:20.0.2"])
    deployments.pause(ns, "paused")
    deployments.set_triggers(ns, "manual", TriggerChange("keycloak:20", containers=("keycloak",), manual=True))

    # the rollback's unit of work, by hand: the tag moves, the controllers react
    uow = UnitOfWork(app)
    stream = uow.get(ImageStream, ns, "keycloak")
    before_stream = app.stream(ns, "keycloak").state
    assert stream.roll_back("20.0.2", f"{KEYCLOAK}@{A}", A, 2)
    deployments = [uow.get(Deployment, ns, n) for n in ("web", "paused", "manual", "pinned")]
    before = {(ns, d.name): app.deployment(ns, d.name).state for d in deployments}
    for d in deployments:
        d.follow_triggers(lambda n, s, t: stream.state.resolve(t),
                          lambda n, s, t: Cause(kind="trigger", stream=f"{n}/{s}", tag=t))
        d.roll_out("test")

    plan = rollback.plan([(ns, "keycloak", "20.0.2")], [stream], {(ns, "keycloak"): before_stream},
                         deployments, before)
    assert [(t.tag, t.change, t.from_image, t.to_image) for t in plan.tags] == [
        ("20.0.2", "rollback", B, A), ("20", "followed", B, A), ("stable", "followed", B, A)]
    got = {f.deployment: (f.fate, f.reason, f.trigger.mode if f.trigger else None,
                          f.trigger.via if f.trigger else None, f.image_after) for f in plan.deployments}
    assert got == {
        "web": ("rolls-out", "TriggerFollows", "auto", ("keycloak:stable", "keycloak:20", "keycloak:20.0.2"),
                f"{KEYCLOAK}@{A}"),
        "paused": ("template-only", "DeploymentPaused", "auto", ("keycloak:20", "keycloak:20.0.2"), f"{KEYCLOAK}@{A}"),
        "manual": ("not-followed", "TriggerManual", "manual", ("keycloak:20", "keycloak:20.0.2"), f"{KEYCLOAK}@{B}"),
        "pinned": ("no-trigger", "NoTrigger", None, None, f"{KEYCLOAK}@{B}"),
    }
    assert next(f for f in plan.deployments if f.deployment == "web").revision == 3
    assert not stream.state.spec_tags["20.0.2"].import_policy.scheduled and plan.scheduled_imports_off == ()
