"""The principal of App Service authentication's X-MS-CLIENT-PRINCIPAL, who may decide, and the requester rule."""
from __future__ import annotations

import base64
import json

import pytest

from shared.domain.candidates import Approval
from shared.domain.errors import Forbidden, InvalidInput
from shared.domain.principals import ApproverPolicy, encode_principal, is_requester, named, parse_principal

OID = "http://schemas.microsoft.com/identity/claims/objectidentifier"


def header(doc) -> str:
    return base64.b64encode(json.dumps(doc).encode()).decode()


def test_the_documented_shape_is_parsed_with_the_name_its_name_typ_names():
    encoded = header({"auth_typ": "aad", "name_typ": "preferred_username", "role_typ": "roles", "claims": [
        {"typ": "name", "val": "Ada Lovelace"}, {"typ": "preferred_username", "val": "ada@contoso.com"},
        {"typ": OID, "val": "11111111-2222"}, {"typ": "groups", "val": "g-approvers"}, {"typ": "groups", "val": "g-2"}]})
    principal = parse_principal(encoded, "aad")
    assert principal.name == "ada@contoso.com" and principal.object_id == "11111111-2222"
    assert principal.groups == ("g-approvers", "g-2") and principal.auth_type == "aad" and principal.signed_in
    assert principal.identities == ("ada@contoso.com", "11111111-2222") and principal.identity_provider == "aad"


def test_the_short_oid_claim_and_a_principal_without_a_name():
    principal = parse_principal(header({"auth_typ": "aad", "claims": [{"typ": "oid", "val": "abc"}]}))
    assert principal.object_id == "abc" and principal.display == "abc"


@pytest.mark.parametrize("encoded", [
    "", "not base64!", base64.b64encode(b"not json").decode(), header([1, 2]), header({"claims": "x"}),
    header({"claims": [{"typ": "name"}]}), header({"claims": [{"typ": "name", "val": 5}]}),
    header({"claims": [{"typ": "other", "val": "x"}]}), header({"claims": [], "name_typ": 5}),
    "A" * 40000,
])
def test_a_malformed_header_is_invalid_input_naming_the_header(encoded):
    with pytest.raises(InvalidInput, match="X-MS-CLIENT-PRINCIPAL"):
        parse_principal(encoded)


def test_encode_principal_round_trips():
    principal = parse_principal(encode_principal("bob@contoso.com", "oid-b", ("g1",)))
    assert (principal.name, principal.object_id, principal.groups) == ("bob@contoso.com", "oid-b", ("g1",))


def test_the_policy_admits_listed_names_object_ids_and_groups_without_case():
    policy = ApproverPolicy.from_text(" Ada@Contoso.com , oid-c ,g-approvers,")
    assert policy.allows(parse_principal(encode_principal("ada@contoso.com")))
    assert policy.allows(parse_principal(encode_principal("carol", "OID-C")))
    assert policy.allows(parse_principal(encode_principal("dan", groups=("g-approvers",))))
    assert not policy.allows(parse_principal(encode_principal("eve@contoso.com", "oid-e", ("g-other",))))
    assert not policy.allows(named("g-approvers x"))


def test_an_empty_list_admits_anyone_only_when_told_so():
    assert ApproverPolicy.from_text("").allows(named("anyone"))
    assert not ApproverPolicy.from_text(" , ", anyone_when_empty=False).allows(named("anyone"))


def test_the_requester_may_reject_but_not_approve():
    approval = Approval("a-v1-x", "m", "1", "d", None, None, {}, {}, {}, "t", "t", requested_by=["Bob@contoso.com"])
    bob = parse_principal(encode_principal("bob@contoso.com", "oid-b"))
    with pytest.raises(Forbidden, match="requester of a candidate may not approve it"):
        approval.check_decider("approve", bob)
    approval.check_decider("reject", bob)
    approval.check_decider("approve", named("ada"))
    assert is_requester(named("oid-b"), ["oid-b"]) and not is_requester(named("ada"), [" ", ""])
