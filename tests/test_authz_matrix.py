"""The policy as a matrix: every role × every protected action × own/other.

The expected table is written out by hand from spec/domain.md ("Actors and what they
may do"), not derived from the code, so a change to authz.py that breaks the policy fails here.
Pages and API endpoints are checked against the same policy with exact status codes.
"""

from types import SimpleNamespace

import pytest

from auditbo.accounts.models import Role
from auditbo.accounts.services import create_token
from auditbo.authz import Action, can
from tests.factories import ConsultingFactory, OrgFactory, UserFactory

A = Action
ROLES = ["admin", "supervisor", "body_clerk", "consulting_user", "anonymous"]
OWN_BODY, OTHER_BODY, OWN_CONS, OTHER_CONS, ME, SOMEONE = 10, 20, 30, 40, 1, 2


def user_of(role: str):
    if role == "anonymous":
        return SimpleNamespace(is_authenticated=False)
    org = {"body_clerk": OWN_BODY, "consulting_user": OWN_CONS}.get(role)
    return SimpleNamespace(is_authenticated=True, id=ME, role=Role(role), org_id=org)


def obj_for(action: Action, scope: str | None):
    """The object of an action, belonging to the user's own body (or assigned to them) or not."""
    if scope is None:
        return None
    own = scope == "own"
    if action in (A.decide_confirmation,):
        return SimpleNamespace(assignee_id=ME if own else SOMEONE)
    if action is A.confirm_revocation:  # "own": a proposal the user made (four eyes: not theirs to confirm)
        return SimpleNamespace(proposed_by_id=ME if own else SOMEONE)
    if action is A.record_spotcheck:
        return SimpleNamespace(inspectors=[SimpleNamespace(user_id=ME if own else SOMEONE)])
    if action in (A.publish_rating, A.decide_objection):  # "own": a rating run the user ran (four eyes)
        return SimpleNamespace(run_by_id=ME if own else SOMEONE)
    if action in (A.view_org, A.view_rating_explained, A.view_complaint_outcome, A.object_to_rating):
        return SimpleNamespace(id=None, org_id=None, body_id=None, _own=own)
    return SimpleNamespace(body_id=OWN_BODY if own else OTHER_BODY,
                           consulting_body_id=OWN_CONS if own else OTHER_CONS)


def _org_obj(role, own):
    """For org-scoped actions the object is the body itself (view_org) or a rating of it."""
    org = {"body_clerk": OWN_BODY, "consulting_user": OWN_CONS}.get(role, OWN_BODY)
    oid = org if own else OTHER_BODY + OTHER_CONS
    return SimpleNamespace(id=oid, org_id=oid)


Y, N = True, False
# action: (scopes, {role: expected per scope})
EXPECTED = {
    A.manage_users: (None, {"admin": Y, "supervisor": N, "body_clerk": N, "consulting_user": N, "anonymous": N}),
    A.manage_registry: (None, {"admin": Y, "supervisor": N, "body_clerk": N, "consulting_user": N, "anonymous": N}),
    A.view_registry: (None, {"admin": Y, "supervisor": Y, "body_clerk": N, "consulting_user": N, "anonymous": N}),
    A.view_office_queues: (None, {"admin": Y, "supervisor": Y, "body_clerk": N, "consulting_user": N,
                                  "anonymous": N}),
    A.register_complaint: (None, {"admin": Y, "supervisor": Y, "body_clerk": N, "consulting_user": N,
                                  "anonymous": N}),
    A.handle_complaint: (None, {"admin": Y, "supervisor": Y, "body_clerk": N, "consulting_user": N,
                                "anonymous": N}),
    A.sanction_certificate: (None, {"admin": Y, "supervisor": N, "body_clerk": N, "consulting_user": N,
                                    "anonymous": N}),
    A.sanction_registry: (None, {"admin": Y, "supervisor": N, "body_clerk": N, "consulting_user": N,
                                 "anonymous": N}),
    A.propose_revocation: (None, {"admin": Y, "supervisor": Y, "body_clerk": N, "consulting_user": N,
                                  "anonymous": N}),
    A.view_sanctions: (None, {"admin": Y, "supervisor": Y, "body_clerk": N, "consulting_user": N,
                              "anonymous": N}),
    A.create_plan: (None, {"admin": N, "supervisor": Y, "body_clerk": N, "consulting_user": N, "anonymous": N}),
    A.approve_plan: (None, {"admin": Y, "supervisor": N, "body_clerk": N, "consulting_user": N, "anonymous": N}),
    A.draw_plan: (None, {"admin": Y, "supervisor": Y, "body_clerk": N, "consulting_user": N, "anonymous": N}),
    A.reassign_spotcheck: (None, {"admin": Y, "supervisor": N, "body_clerk": N, "consulting_user": N,
                                  "anonymous": N}),
    A.disclose_spotcheck: (None, {"admin": Y, "supervisor": Y, "body_clerk": N, "consulting_user": N,
                                  "anonymous": N}),
    A.manage_checklists: (None, {"admin": Y, "supervisor": N, "body_clerk": N, "consulting_user": N,
                                 "anonymous": N}),
    A.run_rating: (None, {"admin": N, "supervisor": Y, "body_clerk": N, "consulting_user": N, "anonymous": N}),
    A.review_rating: (None, {"admin": N, "supervisor": Y, "body_clerk": N, "consulting_user": N, "anonymous": N}),
    A.publish_rating: ("ownother", {"admin": (N, Y), "supervisor": (N, N), "body_clerk": (N, N),
                                    "consulting_user": (N, N), "anonymous": (N, N)}),
    A.decide_objection: ("ownother", {"admin": (N, N), "supervisor": (N, Y), "body_clerk": (N, N),
                                      "consulting_user": (N, N), "anonymous": (N, N)}),
    A.object_to_rating: ("org", {"admin": (N, N), "supervisor": (N, N), "body_clerk": (Y, N),
                                 "consulting_user": (Y, N), "anonymous": (N, N)}),
    A.reassign_confirmation: (None, {"admin": Y, "supervisor": N, "body_clerk": N, "consulting_user": N,
                                     "anonymous": N}),
    A.verify_certificate: (None, {"admin": Y, "supervisor": Y, "body_clerk": Y, "consulting_user": Y,
                                  "anonymous": Y}),
    A.manage_own_tokens: (None, {"admin": Y, "supervisor": Y, "body_clerk": Y, "consulting_user": Y,
                                 "anonymous": N}),
    # own / other
    A.file_assessment: ("ownother", {"admin": (N, N), "supervisor": (N, N), "body_clerk": (Y, N),
                                     "consulting_user": (N, N), "anonymous": (N, N)}),
    A.amend_assessment: ("ownother", {"admin": (N, N), "supervisor": (N, N), "body_clerk": (Y, N),
                                      "consulting_user": (N, N), "anonymous": (N, N)}),
    A.withdraw_assessment: ("ownother", {"admin": (N, N), "supervisor": (N, N), "body_clerk": (Y, N),
                                         "consulting_user": (N, N), "anonymous": (N, N)}),
    A.view_assessment: ("ownother", {"admin": (Y, Y), "supervisor": (Y, Y), "body_clerk": (Y, N),
                                     "consulting_user": (Y, N), "anonymous": (N, N)}),
    A.read_events: ("ownother", {"admin": (Y, Y), "supervisor": (Y, Y), "body_clerk": (Y, N),
                                 "consulting_user": (N, N), "anonymous": (N, N)}),
    A.decide_confirmation: ("ownother", {"admin": (N, N), "supervisor": (Y, N), "body_clerk": (N, N),
                                         "consulting_user": (N, N), "anonymous": (N, N)}),
    A.record_spotcheck: ("ownother", {"admin": (N, N), "supervisor": (Y, N), "body_clerk": (N, N),
                                      "consulting_user": (N, N), "anonymous": (N, N)}),
    A.view_org: ("org", {"admin": (Y, Y), "supervisor": (Y, Y), "body_clerk": (Y, N), "consulting_user": (Y, N),
                         "anonymous": (N, N)}),
    A.confirm_revocation: ("ownother", {"admin": (N, Y), "supervisor": (N, N), "body_clerk": (N, N),
                                        "consulting_user": (N, N), "anonymous": (N, N)}),
    A.view_complaint_outcome: ("org", {"admin": (Y, Y), "supervisor": (Y, Y), "body_clerk": (Y, N),
                                       "consulting_user": (Y, N), "anonymous": (N, N)}),
    A.view_rating_explained: ("org", {"admin": (Y, Y), "supervisor": (Y, Y), "body_clerk": (Y, N),
                                      "consulting_user": (Y, N), "anonymous": (N, N)}),
}

CASES = []
for action, (kind, per_role) in EXPECTED.items():
    for role in ROLES:
        if kind is None:
            CASES.append((role, action, None, per_role[role]))
        else:
            CASES.append((role, action, "own", per_role[role][0]))
            CASES.append((role, action, "other", per_role[role][1]))


def test_every_action_is_in_the_matrix():
    assert set(EXPECTED) == set(Action)


@pytest.mark.parametrize("role,action,scope,expected", CASES,
                         ids=[f"{r}-{a.value}-{s or 'any'}" for r, a, s, _ in CASES])
def test_policy(role, action, scope, expected):
    kind = EXPECTED[action][0]
    obj = _org_obj(role, scope == "own") if kind == "org" else obj_for(action, scope)
    assert can(user_of(role), action, obj) is expected


def test_the_author_of_a_plan_cannot_approve_it():
    admin = user_of("admin")
    assert can(admin, A.approve_plan, SimpleNamespace(author_id=SOMEONE)) is True
    assert can(admin, A.approve_plan, SimpleNamespace(author_id=ME)) is False


# --- the same policy on the pages and the API, with exact status codes -----------------------
PAGES = {
    # path: {role: status}
    "/users": {"admin": 200, "supervisor": 403, "body_clerk": 403, "consulting_user": 403, "anonymous": 302},
    "/users/new": {"admin": 200, "supervisor": 403, "body_clerk": 403, "consulting_user": 403, "anonymous": 302},
    "/account": {"admin": 200, "supervisor": 200, "body_clerk": 200, "consulting_user": 200, "anonymous": 302},
    "/dashboard": {"admin": 200, "supervisor": 200, "body_clerk": 200, "consulting_user": 200, "anonymous": 302},
    "/complaints/": {"admin": 200, "supervisor": 200, "body_clerk": 403, "consulting_user": 403, "anonymous": 302},
    "/complaints/new": {"admin": 200, "supervisor": 200, "body_clerk": 403, "consulting_user": 403,
                        "anonymous": 302},
    "/complaints/about-us": {"admin": 302, "supervisor": 302, "body_clerk": 200, "consulting_user": 200,
                             "anonymous": 302},
    "/sanctions/": {"admin": 200, "supervisor": 200, "body_clerk": 403, "consulting_user": 403, "anonymous": 302},
    "/sanctions/new": {"admin": 200, "supervisor": 200, "body_clerk": 403, "consulting_user": 403, "anonymous": 302},
    "/sanctions/surveillance": {"admin": 200, "supervisor": 200, "body_clerk": 403, "consulting_user": 403,
                                "anonymous": 302},
    "/complain": {"admin": 200, "supervisor": 200, "body_clerk": 200, "consulting_user": 200, "anonymous": 200},
}


def _make(role):
    if role == "body_clerk":
        return UserFactory(role=Role.body_clerk, org=OrgFactory())
    if role == "consulting_user":
        return UserFactory(role=Role.consulting_user, org=ConsultingFactory())
    return UserFactory(role=Role(role))


@pytest.mark.parametrize("role", ROLES)
def test_pages(client, login, role):
    if role != "anonymous":
        login(_make(role))
    got = {path: client.get(path).status_code for path in PAGES}
    assert got == {path: expected[role] for path, expected in PAGES.items()}


@pytest.mark.parametrize("role", ROLES)
def test_api_me(client, role):
    headers = {}
    if role != "anonymous":
        _, secret = create_token(_make(role), "matrix")
        headers["Authorization"] = f"Bearer {secret}"
    resp = client.get("/api/v1/me", headers=headers)
    assert resp.status_code == (401 if role == "anonymous" else 200)
    if role != "anonymous":
        assert resp.get_json()["role"] == role
