"""`rollout undo`: fine for plain containers, refused where a trigger would undo it again."""

from conftest import A, B, KEYCLOAK


def revisions(it, name):
    return [line.split()[:2] for line in it(f"rollout history deployment/{name}").out.splitlines()[2:]]


def test_undo_is_refused_for_a_container_that_follows_a_tag(keycloak):
    keycloak(f"tag {KEYCLOAK}:20.0.3 keycloak:20")
    before = keycloak.event_count()
    result = keycloak.fails("rollout undo deployment/mykeycloak")
    assert 'container "keycloak" follows image stream tag keycloak:20 through an automatic trigger' in result.err
    assert "imagetrail rollback keycloak:20 --steps 1" in result.err
    assert keycloak.event_count() == before and keycloak.image() == f"{KEYCLOAK}@{B}"


def test_undo_restores_the_previous_revision_of_an_untriggered_deployment(keycloak):
    keycloak("create deployment web --image nginx:1.25")
    keycloak("set image deployment/web nginx=nginx:1.26")
    keycloak("set image deployment/web nginx=nginx:1.27")
    assert keycloak("rollout undo deployment/web").out == "deployment.apps/web rolled back\n"
    assert keycloak.image("web", "nginx") == "nginx:1.26"
    keycloak("rollout undo deployment/web --to-revision 1")
    assert keycloak.image("web", "nginx") == "nginx:1.25"
    assert [r[0] for r in revisions(keycloak, "web")][-1] == "5"
    assert keycloak.fails("rollout undo deployment/web --to-revision 9").err == \
        "error: unable to find specified revision 9 in history\n"


def test_undo_works_once_the_trigger_is_manual(keycloak):
    keycloak(f"tag {KEYCLOAK}:20.0.3 keycloak:20")
    keycloak("set triggers deployment/mykeycloak --manual")
    keycloak("rollout resume deployment/mykeycloak")
    keycloak("rollout undo deployment/mykeycloak")
    assert keycloak.image() == f"{KEYCLOAK}@{A}"
