"""The LTI 1.3 conformance vectors in ../shared/conformance/lti/ against our validator."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from joserfc import jws
from joserfc.errors import SecurityWarning
from joserfc.jwk import KeySet

from companion.core.clock import FakeClock
from companion.launch.jwks import StaticKeySet
from companion.launch.nonces import NonceStore
from companion.launch.reasons import LaunchRefused, Refusal
from companion.launch.registration import Registration
from companion.launch.service import validate_launch_token
from companion.launch.validation import check_oidc_claims, verify_jws
from companion.store.db import Database
from tests.launch.helpers import make_key, sign

PYLTI_CASES = ["resource_link", "deep_link", "privacy_launch", "submission_review_launch"]
CERT_ISSUER = "https://ltiadvantagevalidator.imsglobal.org"
CERT_CLIENT = "imstester_3dfad6d"

# Each invalid certification case and the reason it must be refused for.
INVALID_REASONS = {
    "Correct_KID_Required_in_Header": Refusal.MISSING_KID,
    "Exp_and_Iat_Fields_invalid": Refusal.EXPIRED,
    "Incorrect_KID_passed_in_JWT_Header": Refusal.UNKNOWN_KID,
    "JWT_Passed_is_Not_LTI_1.3_JWT": Refusal.MISSING_KID,
    "LTI_version_passed_is_not_1.3": Refusal.WRONG_VERSION,
    "Launch_With_Missing_resource_link_id": Refusal.MISSING_RESOURCE_LINK,
    "No_LTI_Version_Passed_in_JWT": Refusal.MISSING_VERSION,
    "One_or_more_JWT_fields_missing": Refusal.MISSING_VERSION,
    "deployment_id_Claim_Missing": Refusal.MISSING_DEPLOYMENT_ID,
    "message_type_Claim_Missing": Refusal.MISSING_MESSAGE_TYPE,
    "role_Claim_Missing": Refusal.MISSING_ROLES,
    "user_Claim_Missing": Refusal.MISSING_SUB,
}
# Valid in LTI 1.3 Core (context is optional), though the upstream library refuses it.
ACCEPTED_DESPITE_UPSTREAM = {"Launch_Instructor_With_Email_No_Context"}
# Valid messages of types this app does not handle: refused as unsupported, by design.
UNSUPPORTED_TYPES = {"Deep_Linking_-_Send_Deep_Linking_Request_Payload"}


def _cert_dir(shared: Path) -> Path:
    return shared / "conformance" / "lti" / "lti-advantage-cert-payloads"


def _cases(kind: str) -> list[str]:
    from tests.conftest import SHARED

    root = SHARED / "conformance" / "lti" / "lti-advantage-cert-payloads" / kind
    return sorted(p.name for p in root.iterdir() if p.is_dir())


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- pylti1p3 tokens


@pytest.mark.parametrize("case", PYLTI_CASES)
def test_pylti1p3_token_verifies_with_its_key_set_but_is_refused_as_expired(
    shared: Path, case: str
) -> None:
    folder = shared / "conformance" / "lti" / "pylti1p3" / case
    token = (folder / "id_token.jwt").read_text().strip()
    jwks = _load(folder / "platform_jwks.json")
    payload = _load(folder / "id_token.payload.json")
    # The signature is genuine: the JOSE library verifies it with the published key set.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)  # the 512-bit key warns on import
        verified = jws.deserialize_compact(token, KeySet.import_key_set(jwks),
                                           algorithms=["RS256"])
    assert json.loads(verified.payload) == payload
    aud = payload["aud"]
    now = datetime.now(UTC)
    header = _load(folder / "id_token.header.json")
    short = case == "resource_link"
    if short:
        # Our validator refuses the 512-bit key before it looks at anything else.
        with pytest.raises(LaunchRefused) as refused:
            verify_jws(token, StaticKeySet(jwks))
        assert refused.value.code is Refusal.KEY_TOO_SMALL
        # ... and accepts the signature when allowed a short key, to show that is the reason.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SecurityWarning)
            claims = verify_jws(token, StaticKeySet(jwks, min_bits=512))
    else:
        claims = verify_jws(token, StaticKeySet(jwks))
    assert claims == payload
    with pytest.raises(LaunchRefused) as refused:
        check_oidc_claims(claims, issuer=payload["iss"], client_id=aud, now=now)
    assert refused.value.code is (Refusal.EXPIRED if payload.get("azp", aud) == aud
                                  else Refusal.WRONG_AZP)
    assert header["kid"]


def test_pylti1p3_tokens_are_expired_even_at_a_lenient_leeway(shared: Path) -> None:
    folder = shared / "conformance" / "lti" / "pylti1p3" / "deep_link"
    claims = _load(folder / "id_token.payload.json")
    at_issue = datetime.fromtimestamp(claims["iat"] + 10, UTC)
    # At its own time it would pass the OIDC checks: the refusal above is the clock's doing.
    check_oidc_claims(claims, issuer=claims["iss"], client_id=claims["aud"], now=at_issue)
    with pytest.raises(LaunchRefused) as refused:
        check_oidc_claims(claims, issuer=claims["iss"], client_id=claims["aud"],
                          now=at_issue + timedelta(hours=1))
    assert refused.value.code is Refusal.EXPIRED


# ---------------------------------------------------- 1EdTech certification payloads


class _Harness:
    """A registration with the certification suite's issuer, client and deployment."""

    def __init__(self, db: Database) -> None:
        self.key = make_key("cert-key-1")
        self.clock = FakeClock(start=datetime.now(UTC))
        self.nonces = NonceStore(db, self.clock)
        self.keys = StaticKeySet({"keys": [self.key.as_dict(private=False)]})
        self.registration = Registration(issuer=CERT_ISSUER, client_id=CERT_CLIENT,
                                    deployment_ids=frozenset({"testdeploy"}),
                                         auth_url=f"{CERT_ISSUER}/auth", jwks_url="unused")

    def run(self, folder: Path) -> dict[str, Any]:
        """Sign the case as the upstream suite does, then validate it as a launch post."""
        payload = _load(folder / "payload.json")
        keep = _load(folder / "keep.json") if (folder / "keep.json").exists() else []
        now = int(self.clock.utc_now().timestamp())
        if "exp" not in keep and payload:
            payload["exp"] = now + 86400
        if "iat" not in keep and payload:
            payload["iat"] = now - 86400
        attempt = self.nonces.begin("lti")
        if "nonce" in payload:
            payload["nonce"] = attempt.nonce  # the suite's nonce was issued by its tool
        header = _load(folder / "header.json") if (folder / "header.json").exists() else None
        token = sign(payload, self.key, header)
        return validate_launch_token(token, attempt, self.registration, self.keys, self.nonces,
                                     self.clock.utc_now()).summary()


@pytest.fixture
def harness(tmp_path: Path) -> Any:
    with Database.open(tmp_path / "cert.sqlite3", "sandbox") as db:
        yield _Harness(db)


def test_every_invalid_case_has_an_expected_reason(shared: Path) -> None:
    found = {p.name for p in (_cert_dir(shared) / "certification" / "invalid").iterdir()}
    assert found == set(INVALID_REASONS) | ACCEPTED_DESPITE_UPSTREAM


@pytest.mark.parametrize("case", sorted(INVALID_REASONS))
def test_certification_invalid_payload_is_refused_for_its_reason(
    shared: Path, harness: _Harness, case: str
) -> None:
    with pytest.raises(LaunchRefused) as refused:
        harness.run(_cert_dir(shared) / "certification" / "invalid" / case)
    assert refused.value.code is INVALID_REASONS[case], refused.value.message


def test_not_an_lti_jwt_is_refused_even_with_a_good_kid(harness: _Harness) -> None:
    token = sign({"name": "badltilaunch"}, harness.key)
    claims = verify_jws(token, StaticKeySet({"keys": [harness.key.as_dict(private=False)]}))
    with pytest.raises(LaunchRefused) as refused:
        check_oidc_claims(claims, issuer=CERT_ISSUER, client_id=CERT_CLIENT,
                          now=harness.clock.utc_now())
    assert refused.value.code is Refusal.WRONG_ISSUER


@pytest.mark.parametrize("case", _cases("certification/valid"))
def test_certification_valid_payload_is_accepted(
    shared: Path, harness: _Harness, case: str
) -> None:
    folder = _cert_dir(shared) / "certification" / "valid" / case
    if case in UNSUPPORTED_TYPES:
        with pytest.raises(LaunchRefused) as refused:
            harness.run(folder)
        assert refused.value.code is Refusal.UNSUPPORTED_MESSAGE_TYPE
        return
    summary = harness.run(folder)
    assert summary["sub"] == _load(folder / "payload.json")["sub"]
    assert summary["resource_link_id"]


@pytest.mark.parametrize("case", sorted(ACCEPTED_DESPITE_UPSTREAM))
def test_launch_without_context_is_accepted(shared: Path, harness: _Harness, case: str) -> None:
    summary = harness.run(_cert_dir(shared) / "certification" / "invalid" / case)
    assert summary["context_id"] is None
    assert summary["email"] == "l.c.hutton@district1.com"


@pytest.mark.parametrize("case", _cases("messages/valid"))
def test_other_message_types_are_refused_as_unsupported(
    shared: Path, harness: _Harness, case: str
) -> None:
    folder = _cert_dir(shared) / "messages" / "valid" / case
    payload = _load(folder / "payload.json")
    harness.registration = Registration(
        issuer=payload["iss"], client_id=CERT_CLIENT,
        deployment_ids=frozenset({payload[
            "https://purl.imsglobal.org/spec/lti/claim/deployment_id"]}),
        auth_url="unused", jwks_url="unused")
    with pytest.raises(LaunchRefused) as refused:
        harness.run(folder)
    assert refused.value.code is Refusal.UNSUPPORTED_MESSAGE_TYPE
