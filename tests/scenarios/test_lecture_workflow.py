"""The lecture's workflow (7-7 image-change triggers), command for command, with imagetrail for oc."""

from conftest import A, B, KEYCLOAK

TRIGGERS = "{.metadata.annotations.image\\.openshift\\.io/triggers}"
ANNOTATION = ('[{"from":{"kind":"ImageStreamTag","name":"keycloak:20"},'
              '"fieldPath":"spec.template.spec.containers[?(@.name==\\"keycloak\\")].image"}]')


def test_the_whole_lecture_workflow(imagetrail):
    assert imagetrail(f"create istag keycloak:20.0.2 --from-image {KEYCLOAK}:20.0.2").out == \
        "imagestreamtag.image.openshift.io/keycloak:20.0.2 created\n"
    imported = imagetrail(f"import-image keycloak:20.0.3 --from {KEYCLOAK}:20.0.3 --confirm").out
    assert imported.startswith("imagestream.image.openshift.io/keycloak imported\n\nName:\t\t\tkeycloak\n")
    assert imagetrail(f"tag {KEYCLOAK}:20.0.2 keycloak:20.0.2").out == \
        f"Tag keycloak:20.0.2 set to {KEYCLOAK}:20.0.2.\n"
    assert imagetrail("set image-lookup keycloak").out == "imagestream.image.openshift.io/keycloak image lookup updated\n"
    assert imagetrail("tag --alias keycloak:20.0.2 keycloak:20").out == "Tag keycloak:20 set up to track keycloak:20.0.2.\n"

    described = imagetrail("describe is keycloak").out
    assert "\n20.0.2 (20)\n  tagged from quay.io/keycloak/keycloak:20.0.2\n" in described
    assert "Image Lookup:\t\tlocal=true\n" in described

    assert imagetrail("create deployment mykeycloak --image keycloak:20").out == "deployment.apps/mykeycloak created\n"
    wide = imagetrail("get deployment mykeycloak -o wide").out.splitlines()
    assert wide[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    assert wide[1].split()[5:7] == ["keycloak", f"{KEYCLOAK}@{A}"]

    assert imagetrail("set triggers deployment/mykeycloak --from-image keycloak:20 --containers keycloak").out == \
        "deployment.apps/mykeycloak triggers updated\n"
    assert imagetrail(f"get deployment mykeycloak -o jsonpath='{TRIGGERS}'").out == ANNOTATION

    assert imagetrail("set triggers deployment/mykeycloak").out == (
        "NAME                    TYPE    VALUE                   AUTO\n"
        "deployments/mykeycloak  config                          true\n"
        "deployments/mykeycloak  image   keycloak:20 (keycloak)  true\n")

    assert imagetrail("rollout pause deployment/mykeycloak").out == "deployment.apps/mykeycloak paused\n"
    assert imagetrail("rollout resume deployment/mykeycloak").out == "deployment.apps/mykeycloak resumed\n"
    imagetrail("set triggers deployment/mykeycloak --manual")
    imagetrail("set triggers deployment/mykeycloak --auto")

    moved = imagetrail(f"tag {KEYCLOAK}:20.0.3 keycloak:20")
    assert moved.out == f"Tag keycloak:20 set to {KEYCLOAK}:20.0.3.\n"
    assert imagetrail.image() == f"{KEYCLOAK}@{B}"
    assert "rolled out revision 2" in moved.err

    rolled_back = imagetrail("tag --alias keycloak:20.0.2 keycloak:20")
    assert imagetrail.image() == f"{KEYCLOAK}@{A}"
    assert "rolled out revision 3" in rolled_back.err
    assert imagetrail.history("20") == [A, B, A]

    imagetrail("set triggers deployment/mykeycloak --remove-all")
    assert imagetrail(f"get deployment mykeycloak -o jsonpath='{TRIGGERS}'").out == "null"


def test_demo_runs_the_story_end_to_end(capsys):
    from imagetrail.cli.demo import run_demo

    assert run_demo() == 0
    captured = capsys.readouterr()
    assert "$ imagetrail tag --alias keycloak:20.0.2 keycloak:20" in captured.out
    assert "deployment.apps/mykeycloak rolled out revision 3" in captured.err
