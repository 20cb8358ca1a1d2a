"""HTTP message signatures: RFC 9421/9530 vectors, round trip, interop, and the attacker's side."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import re
import time
from collections.abc import Mapping
from pathlib import Path

import http_message_signatures as hms
import http_sf
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.crypto import errors
from gateway.crypto.http_signatures import (
    COVERED_COMPONENTS,
    Headers,
    RequestParts,
    ResolvedKey,
    SignaturePolicy,
    VerifiedRequest,
    _inner_list,
    _is_member,
    _serialise_params,
    check_content_digest,
    content_digest,
    sign_request,
    signature_base,
    verify_request,
)
from gateway.crypto.keys import PartnerKeyPair
from gateway.crypto.signing import SigningKey, verify_signature

NOW = 1_764_000_000
NONCE = "q3Vx8mK2pL9sT4wZ"
POLICY = SignaturePolicy(max_age=300, max_skew=30)

PARTNER = PartnerKeyPair.generate("wonen-limburg")
OTHER = PartnerKeyPair.generate("amw-midden-limburg")
DIRECTORY = {
    pair.public.key_id: ResolvedKey(pair.partner, pair.public.key_id, pair.public.ed25519)
    for pair in (PARTNER, OTHER)
}
BODY = b'{"flow": "rent-signal", "rows": 3}'
REQUEST = RequestParts(
    method="POST",
    authority="Gateway.Weert.example:8443",
    path="/api/v1/batches",
    query="dry_run=false",
    headers={"Content-Type": "application/json"},
    body=BODY,
)


def resolve(key_id: str) -> ResolvedKey:
    return DIRECTORY[key_id]  # KeyError for an unknown id, as a directory lookup would


def signed(
    parts: RequestParts = REQUEST,
    key: PartnerKeyPair = PARTNER,
    *,
    created: int = NOW,
    nonce: str = NONCE,
) -> RequestParts:
    return parts.with_headers(sign_request(parts, key, key.public.key_id, created, nonce))


def verify(parts: RequestParts, *, now: int = NOW) -> VerifiedRequest:
    return verify_request(parts, resolve_key=resolve, policy=POLICY, now=now)


def forge(
    parts: RequestParts,
    covered: tuple[str, ...],
    params: Mapping[str, int | str],
    *,
    key: PartnerKeyPair = PARTNER,
    label: str = "sig1",
    digest: bool = True,
) -> RequestParts:
    """A signature made by hand with any coverage and parameters, by a holder of the key."""
    if digest:
        parts = parts.with_headers({"Content-Digest": content_digest(parts.body)})
    base = signature_base(parts, covered, params)
    inner = ([(c, {}) for c in covered], dict(params))
    return parts.with_headers(
        {
            "Signature-Input": http_sf.ser({label: inner}),
            "Signature": http_sf.ser({label: key.signing_key.sign(base)}),
        }
    )


def sluis_params(**overrides: int | str) -> dict[str, int | str]:
    params: dict[str, int | str] = {
        "created": NOW,
        "keyid": PARTNER.public.key_id,
        "nonce": NONCE,
        "alg": "ed25519",
        "tag": "sluis",
    }
    params.update(overrides)
    return params


# --- RFC 9421 appendix B.2.6 (Ed25519, test-key-ed25519 from B.1.4) -----------------------------

RFC_SEED = base64.b64decode("MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF")[
    -32:
]
RFC_PUBLIC = base64.b64decode("MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=")[-32:]
RFC_REQUEST = RequestParts(
    method="POST",
    authority="example.com",
    path="/foo",
    query="param=Value&Pet=dog",
    headers={
        "Host": "example.com",
        "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
        "Content-Type": "application/json",
        "Content-Digest": "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu"
        "7BNNyealdVLvRwEmTHWXvJwew==:",
        "Content-Length": "18",
    },
    body=b'{"hello": "world"}',
)
RFC_COVERED = ("date", "@method", "@path", "@authority", "content-type", "content-length")
RFC_PARAMS: dict[str, int | str] = {"created": 1618884473, "keyid": "test-key-ed25519"}
RFC_BASE = (
    b'"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    b'"@method": POST\n'
    b'"@path": /foo\n'
    b'"@authority": example.com\n'
    b'"content-type": application/json\n'
    b'"content-length": 18\n'
    b'"@signature-params": ("date" "@method" "@path" "@authority" "content-type" '
    b'"content-length");created=1618884473;keyid="test-key-ed25519"'
)
RFC_SIGNATURE_INPUT = (
    'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
    ';created=1618884473;keyid="test-key-ed25519"'
)
RFC_SIGNATURE = base64.b64decode(
    "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="
)


def test_rfc9421_b26_signature_base_is_rebuilt_byte_for_byte() -> None:
    assert signature_base(RFC_REQUEST, RFC_COVERED, RFC_PARAMS) == RFC_BASE


def test_rfc9421_b26_signature_verifies_over_our_base() -> None:
    verify_signature(
        RFC_PUBLIC, signature_base(RFC_REQUEST, RFC_COVERED, RFC_PARAMS), RFC_SIGNATURE
    )


def test_rfc9421_b26_signature_is_reproduced_with_the_test_key() -> None:
    key = SigningKey.from_seed(RFC_SEED)
    assert key.public_key == RFC_PUBLIC
    assert key.sign(signature_base(RFC_REQUEST, RFC_COVERED, RFC_PARAMS)) == RFC_SIGNATURE


def test_rfc9421_b26_request_is_valid_but_not_a_sluis_signature() -> None:
    rfc = RFC_REQUEST.with_headers(
        {
            "Signature-Input": RFC_SIGNATURE_INPUT,
            "Signature": http_sf.ser({"sig-b26": RFC_SIGNATURE}),
        }
    )
    with pytest.raises(errors.SluisSignatureMissing, match='tag "sluis"'):
        verify(rfc)


def test_rfc9530_digests_of_the_rfc_body() -> None:
    # RFC 9530 section 2 / RFC 9421 B.2: {"hello": "world"}
    assert content_digest(b'{"hello": "world"}') == (
        "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
    )
    check_content_digest(RFC_REQUEST.headers["content-digest"], RFC_REQUEST.body)


def test_documented_example_in_api_auth_md_is_reproduced() -> None:
    key = SigningKey.from_seed(bytes(range(32)))
    assert PartnerKeyPair("x", key, OTHER.box_private_key()).public.key_id == (
        "kopiqcfxwkbrepq54otpzg6n"
    )
    parts = RequestParts(
        "POST",
        "gateway.weert.example",
        "/api/v1/batches",
        "dry_run=false",
        {"Content-Type": "application/json"},
        b'{"flow":"rent-signal","rows":[]}',
    )
    headers = sign_request(parts, key, "kopiqcfxwkbrepq54otpzg6n", 1764000000, NONCE)
    doc = (Path(__file__).resolve().parents[2] / "docs" / "API_AUTH.md").read_text()
    for name, value in headers.items():
        assert f"{name}: {value}\n" in doc
    params = sluis_params(created=1764000000, keyid="kopiqcfxwkbrepq54otpzg6n")
    base = signature_base(parts.with_headers(headers), COVERED_COMPONENTS, params)
    assert f"```\n{base.decode()}\n```" in doc


# --- Round trip ---------------------------------------------------------------------------------


def test_round_trip_returns_partner_key_created_and_nonce() -> None:
    result = verify(signed())
    assert result == VerifiedRequest(PARTNER.partner, PARTNER.public.key_id, NOW, NONCE)


def test_signed_headers_have_the_fixed_shape() -> None:
    headers = sign_request(REQUEST, PARTNER, PARTNER.public.key_id, NOW, NONCE)
    assert set(headers) == {"Content-Digest", "Signature-Input", "Signature"}
    assert headers["Signature-Input"] == (
        'sig1=("@method" "@authority" "@path" "@query" "content-digest")'
        f';created={NOW};keyid="{PARTNER.public.key_id}";nonce="{NONCE}"'
        ';alg="ed25519";tag="sluis"'
    )
    assert headers["Content-Digest"] == content_digest(BODY)
    assert headers["Signature"].startswith("sig1=:")


def test_signing_key_and_partner_key_pair_sign_alike() -> None:
    by_pair = sign_request(REQUEST, PARTNER, PARTNER.public.key_id, NOW, NONCE)
    by_key = sign_request(REQUEST, PARTNER.signing_key, PARTNER.public.key_id, NOW, NONCE)
    assert by_pair == by_key


def test_empty_body_and_empty_query_round_trip() -> None:
    parts = RequestParts("GET", "gateway.example", "/api/v1/inbox")
    assert verify(signed(parts)).partner_id == PARTNER.partner
    base = signature_base(signed(parts), COVERED_COMPONENTS, {"created": NOW})
    assert b'"@query": ?\n' in base


def test_headers_are_case_insensitive_and_authority_lower_cased() -> None:
    parts = signed()
    assert parts.headers["signature-input"] == parts.headers["SIGNATURE-INPUT"]
    assert parts.authority == "gateway.weert.example:8443"
    assert Headers({"A": "1", "a": "2"})["a"] == "1, 2"
    assert hash(parts) == hash(dataclasses.replace(parts))


def test_window_edges_are_inclusive() -> None:
    verify(signed(), now=NOW + POLICY.max_age)
    verify(signed(created=NOW + POLICY.max_skew))


def test_sha512_content_digest_is_accepted() -> None:
    digest = base64.b64encode(hashlib.sha512(BODY).digest()).decode()
    parts = REQUEST.with_headers({"Content-Digest": f"sha-512=:{digest}:"})
    verify(forge(parts, COVERED_COMPONENTS, sluis_params(), digest=False))


def test_alg_may_be_omitted() -> None:
    params = sluis_params()
    del params["alg"]
    verify(forge(REQUEST, COVERED_COMPONENTS, params))


def test_extra_covered_header_is_accepted() -> None:
    verify(forge(REQUEST, (*COVERED_COMPONENTS, "content-type"), sluis_params()))


def test_signature_of_another_application_beside_ours_is_ignored() -> None:
    ours = signed()
    proxy_input = '("@method");created=1;keyid="proxy";tag="edge"'
    proxy_sig = http_sf.ser(b"\x00" * 64)
    parts = ours.with_headers(
        {
            "Signature-Input": f"edge={proxy_input}, {ours.headers['signature-input']}",
            "Signature": f"edge={proxy_sig}, {ours.headers['signature']}",
        }
    )
    assert verify(parts).key_id == PARTNER.public.key_id


# --- Interop with http-message-signatures (a test dependency in setup.cfg) ---------------------


@dataclasses.dataclass
class _Message:
    """The request interface that library reads: method, absolute url, headers."""

    method: str
    url: str
    headers: dict[str, str]


def _message(parts: RequestParts) -> _Message:
    query = f"?{parts.query}" if parts.query else ""
    return _Message(
        parts.method, f"https://{parts.authority}{parts.path}{query}", dict(parts.headers)
    )


def _library_resolver() -> object:
    seed = PARTNER.signing_key.export_seed()
    return hms.MappingKeyResolver(
        public_keys={
            PARTNER.public.key_id: ed25519.Ed25519PublicKey.from_public_bytes(
                PARTNER.public.ed25519
            )
        },
        private_keys={PARTNER.public.key_id: ed25519.Ed25519PrivateKey.from_private_bytes(seed)},
    )


def _now() -> int:
    return int(time.time())


def test_request_signed_by_http_message_signatures_verifies_here() -> None:
    created = _now()
    message = _message(REQUEST)
    signer = hms.HTTPMessageSigner(
        signature_algorithm=hms.algorithms.ED25519, key_resolver=_library_resolver()
    )
    signer.sign(
        message,
        key_id=PARTNER.public.key_id,
        created=dt.datetime.fromtimestamp(created, dt.UTC),
        nonce=NONCE,
        label="sig1",
        tag="sluis",
        covered_component_ids=COVERED_COMPONENTS,
        body=BODY,
    )
    parts = dataclasses.replace(REQUEST, headers=message.headers)
    assert verify(parts, now=created).partner_id == PARTNER.partner


def test_request_signed_here_verifies_with_http_message_signatures() -> None:
    created = _now()
    parts = signed(created=created)
    verifier = hms.HTTPMessageVerifier(
        signature_algorithm=hms.algorithms.ED25519, key_resolver=_library_resolver()
    )
    results = verifier.verify(
        _message(parts), expect_tag="sluis", require_components=COVERED_COMPONENTS, body=BODY
    )
    assert len(results) == 1
    assert results[0].parameters["nonce"] == NONCE


def test_weak_verifier_without_body_accepts_what_ours_refuses() -> None:
    # The library verifies the digest only when handed the body; skipping it is the classic
    # failure the design brief warns about. Ours always recomputes the digest.
    created = _now()
    swapped = dataclasses.replace(signed(created=created), body=b'{"rows": 999}')
    verifier = hms.HTTPMessageVerifier(
        signature_algorithm=hms.algorithms.ED25519, key_resolver=_library_resolver()
    )
    assert verifier.verify(_message(swapped), expect_tag="sluis")
    with pytest.raises(errors.ContentDigestMismatch):
        verify(swapped, now=created)


# --- The attacker's side ------------------------------------------------------------------------


def test_request_without_content_digest_coverage_is_refused() -> None:
    parts = forge(
        REQUEST, ("@method", "@authority", "@path", "@query"), sluis_params(), digest=False
    )
    with pytest.raises(
        errors.CoverageIncomplete, match=r"^The Signature-Input does not cover content-digest\.$"
    ):
        verify(parts)


def test_digest_header_matching_body_but_not_covered_is_refused() -> None:
    parts = forge(REQUEST, ("@method", "@authority", "@path", "@query"), sluis_params())
    check_content_digest(parts.headers["content-digest"], BODY)  # the digest itself is right
    with pytest.raises(errors.CoverageIncomplete, match="content-digest"):
        verify(parts)


def test_body_swapped_after_signing_is_refused() -> None:
    with pytest.raises(errors.ContentDigestMismatch):
        verify(dataclasses.replace(signed(), body=b'{"flow": "rent-signal", "rows": 4}'))


def test_body_and_digest_swapped_after_signing_is_refused() -> None:
    other = b'{"rows": 4}'
    parts = dataclasses.replace(signed(), body=other).with_headers(
        {"Content-Digest": content_digest(other)}
    )
    with pytest.raises(errors.RequestSignatureInvalid):
        verify(parts)


def test_missing_content_digest_header_is_refused() -> None:
    parts = signed()
    stripped = RequestParts(
        parts.method,
        parts.authority,
        parts.path,
        parts.query,
        {k: v for k, v in parts.headers.items() if k != "content-digest"},
        parts.body,
    )
    with pytest.raises(errors.ContentDigestMissing):
        verify(stripped)


def test_expired_created_is_refused() -> None:
    with pytest.raises(errors.SignatureExpired, match="300 seconds ago"):
        verify(signed(), now=NOW + POLICY.max_age + 1)


def test_future_created_beyond_skew_is_refused() -> None:
    with pytest.raises(errors.SignatureFromFuture):
        verify(signed(created=NOW + POLICY.max_skew + 1))


def test_passed_expires_is_refused() -> None:
    parts = forge(REQUEST, COVERED_COMPONENTS, sluis_params(expires=NOW + 10))
    verify(parts, now=NOW + 10)
    with pytest.raises(errors.SignatureExpired, match="expires"):
        verify(parts, now=NOW + 11)


def test_unknown_key_id_is_refused() -> None:
    stranger = PartnerKeyPair.generate("stranger")
    with pytest.raises(errors.UnknownKeyId):
        verify(signed(key=stranger))


def test_signature_by_other_partner_key_is_refused() -> None:
    # OTHER signs but claims PARTNER's key id.
    parts = REQUEST.with_headers(sign_request(REQUEST, OTHER, PARTNER.public.key_id, NOW, NONCE))
    with pytest.raises(errors.RequestSignatureInvalid):
        verify(parts)


def test_key_id_bound_to_another_key_in_directory_is_refused() -> None:
    def confused(key_id: str) -> ResolvedKey:
        return ResolvedKey(PARTNER.partner, key_id, OTHER.public.ed25519)

    with pytest.raises(errors.KeyIdMismatch):
        verify_request(signed(), resolve_key=confused, policy=POLICY, now=NOW)


def test_revoked_key_refusal_from_resolver_passes_through() -> None:
    def revoked(key_id: str) -> ResolvedKey:
        raise errors.UnknownKeyId("The key id was revoked.")

    with pytest.raises(errors.UnknownKeyId, match="revoked"):
        verify_request(signed(), resolve_key=revoked, policy=POLICY, now=NOW)


def test_resolver_fault_is_not_turned_into_a_refusal() -> None:
    def broken(key_id: str) -> ResolvedKey:
        raise RuntimeError("database down")

    with pytest.raises(RuntimeError):
        verify_request(signed(), resolve_key=broken, policy=POLICY, now=NOW)


def test_path_changed_is_refused() -> None:
    with pytest.raises(errors.RequestSignatureInvalid):
        verify(dataclasses.replace(signed(), path="/api/v1/admin"))


def test_query_changed_is_refused() -> None:
    with pytest.raises(errors.RequestSignatureInvalid):
        verify(dataclasses.replace(signed(), query=""))


def test_method_changed_is_refused() -> None:
    with pytest.raises(errors.RequestSignatureInvalid):
        verify(dataclasses.replace(signed(), method="DELETE"))


def test_authority_changed_is_refused() -> None:
    with pytest.raises(errors.RequestSignatureInvalid):
        verify(dataclasses.replace(signed(), authority="gateway.other.example"))


def test_oversized_signature_input_is_refused() -> None:
    parts = signed()
    padded = parts.headers["signature-input"] + ', pad=("' + "a" * 5000 + '")'
    with pytest.raises(errors.SignatureHeaderTooLarge, match="4096"):
        verify(parts.with_headers({"Signature-Input": padded}))


def test_oversized_signature_and_digest_are_refused() -> None:
    parts = signed()
    with pytest.raises(errors.SignatureHeaderTooLarge):
        verify(parts.with_headers({"Signature": parts.headers["signature"] + " " * 5000}))
    with pytest.raises(errors.SignatureHeaderTooLarge):
        check_content_digest("sha-256=:" + "A" * 5000 + ":", BODY)


def test_missing_signature_headers_are_refused() -> None:
    with pytest.raises(errors.SignatureHeaderMissing, match="Signature-Input"):
        verify(REQUEST)
    only_input = REQUEST.with_headers({"Signature-Input": signed().headers["signature-input"]})
    with pytest.raises(errors.SignatureHeaderMissing, match="Signature header"):
        verify(only_input)


def test_signature_entry_under_another_label_is_refused() -> None:
    parts = signed()
    relabelled = parts.headers["signature"].replace("sig1=", "sig2=", 1)
    with pytest.raises(errors.SignatureHeaderMissing, match="no entry"):
        verify(parts.with_headers({"Signature": relabelled}))


def test_two_sluis_signatures_are_refused() -> None:
    one = signed()
    two = forge(REQUEST, COVERED_COMPONENTS, sluis_params(nonce="zzzzzzzzzzzzzzzz"), label="sig2")
    parts = one.with_headers(
        {
            "Signature-Input": (
                f"{one.headers['signature-input']}, {two.headers['signature-input']}"
            ),
            "Signature": f"{one.headers['signature']}, {two.headers['signature']}",
        }
    )
    with pytest.raises(errors.SignatureAmbiguous, match="more than one"):
        verify(parts)


def test_repeated_label_is_refused() -> None:
    parts = signed()
    doubled = f"{parts.headers['signature-input']}, {parts.headers['signature-input']}"
    with pytest.raises(errors.SignatureAmbiguous, match="repeats a label"):
        verify(parts.with_headers({"Signature-Input": doubled}))


def test_repeated_parameter_is_refused() -> None:
    parts = signed()
    doubled = parts.headers["signature-input"] + f";created={NOW - 1000}"
    with pytest.raises(errors.SignatureParameterInvalid, match="repeats a parameter"):
        verify(parts.with_headers({"Signature-Input": doubled}))


def test_untagged_signature_is_refused() -> None:
    params = sluis_params()
    del params["tag"]
    with pytest.raises(errors.SluisSignatureMissing):
        verify(forge(REQUEST, COVERED_COMPONENTS, params))


def test_tag_as_token_is_not_the_sluis_tag() -> None:
    parts = signed()
    as_token = parts.headers["signature-input"].replace('tag="sluis"', "tag=sluis")
    with pytest.raises(errors.SluisSignatureMissing):
        verify(parts.with_headers({"Signature-Input": as_token}))


@pytest.mark.parametrize("alg", ["rsa-pss-sha512", "hmac-sha256", "ED25519"])
def test_other_algorithm_is_refused(alg: str) -> None:
    with pytest.raises(errors.AlgorithmNotAllowed):
        verify(forge(REQUEST, COVERED_COMPONENTS, sluis_params(alg=alg)))


@pytest.mark.parametrize("missing", ["created", "keyid", "nonce"])
def test_missing_parameter_is_refused(missing: str) -> None:
    params = sluis_params()
    del params[missing]
    with pytest.raises(errors.SignatureParameterMissing, match=missing):
        verify(forge(REQUEST, COVERED_COMPONENTS, params))


@pytest.mark.parametrize(
    "overrides",
    [{"created": str(NOW)}, {"keyid": 7}, {"nonce": 1234567890}, {"expires": "later"}],
    ids=["created", "keyid", "nonce", "expires"],
)
def test_parameter_of_wrong_type_is_refused(overrides: dict[str, int | str]) -> None:
    with pytest.raises(errors.SignatureParameterInvalid):
        verify(forge(REQUEST, COVERED_COMPONENTS, sluis_params(**overrides)))


def test_unknown_parameter_is_refused() -> None:
    with pytest.raises(errors.SignatureParameterInvalid, match="unknown parameter"):
        verify(forge(REQUEST, COVERED_COMPONENTS, sluis_params(context="x")))


@pytest.mark.parametrize("nonce", ["short", "x" * 65, "has spaces in it!!", "a+b/c=d+e/f=g+h/"])
def test_bad_nonce_is_refused(nonce: str) -> None:
    with pytest.raises(errors.NonceInvalid):
        verify(forge(REQUEST, COVERED_COMPONENTS, sluis_params(nonce=nonce)))
    with pytest.raises(errors.NonceInvalid):
        sign_request(REQUEST, PARTNER, PARTNER.public.key_id, NOW, nonce)


@pytest.mark.parametrize("extra", ["@target-uri", "@request-target", "@scheme", "@status"])
def test_extra_derived_component_is_refused(extra: str) -> None:
    parts = signed()
    widened = parts.headers["signature-input"].replace(
        '"content-digest")', f'"content-digest" "{extra}")'
    )
    with pytest.raises(errors.ComponentNotAllowed, match="derived component"):
        verify(parts.with_headers({"Signature-Input": widened}))


def test_component_twice_or_with_parameters_is_refused() -> None:
    parts = signed()
    twice = parts.headers["signature-input"].replace('"@path"', '"@path" "@path"')
    with pytest.raises(errors.ComponentNotAllowed, match="twice"):
        verify(parts.with_headers({"Signature-Input": twice}))
    with_key = parts.headers["signature-input"].replace(
        '"content-digest"', '"content-digest";key="sha-256"'
    )
    with pytest.raises(errors.ComponentNotAllowed, match="component parameters"):
        verify(parts.with_headers({"Signature-Input": with_key}))


def test_missing_required_derived_component_is_refused() -> None:
    covered = ("@method", "@path", "@query", "content-digest")
    with pytest.raises(errors.CoverageIncomplete, match="@authority"):
        verify(forge(REQUEST, covered, sluis_params()))


def _without(parts: RequestParts, name: str) -> RequestParts:
    return dataclasses.replace(parts, headers={k: v for k, v in parts.headers.items() if k != name})


def test_covered_header_absent_from_request_is_refused() -> None:
    parts = forge(REQUEST, (*COVERED_COMPONENTS, "content-type"), sluis_params())
    with pytest.raises(errors.CoveredHeaderMissing):
        verify(_without(parts, "content-type"))


def test_signature_input_that_is_not_an_inner_list_is_refused() -> None:
    parts = signed()
    with pytest.raises(errors.SignatureHeaderMalformed, match="inner list"):
        verify(parts.with_headers({"Signature-Input": 'sig1="x";tag="sluis"'}))


def test_unparseable_and_non_ascii_headers_are_refused() -> None:
    parts = signed()
    for bad in ["sig1=(", "sig1=:abc", "SIG1=1", 'sig1=("@méthod")']:
        with pytest.raises(errors.SignatureHeaderMalformed):
            verify(parts.with_headers({"Signature-Input": bad}))


def test_signature_that_is_not_bytes_or_not_64_bytes_is_refused() -> None:
    parts = signed()
    with pytest.raises(errors.SignatureHeaderMalformed):
        verify(parts.with_headers({"Signature": 'sig1="text"'}))
    with pytest.raises(errors.RequestSignatureInvalid, match="64 bytes"):
        verify(parts.with_headers({"Signature": http_sf.ser({"sig1": b"\x01" * 63})}))


def test_non_canonical_signature_base64_is_refused() -> None:
    parts = signed()
    text = parts.headers["signature"]
    assert text.endswith("==:")
    unpadded = text[: -len("==:")] + ":"
    with pytest.raises(errors.SignatureHeaderMalformed, match="canonical"):
        verify(parts.with_headers({"Signature": unpadded}))


@settings(max_examples=500)
@given(
    st.lists(st.sampled_from(["sig1=:QUJD:", " ", "\t", ",", "x", "sig1", "=:", ":"]), max_size=8)
)
def test_member_check_matches_the_regular_expression_it_replaced(pieces: list[str]) -> None:
    raw = "".join(pieces)
    member = "sig1=:QUJD:"
    expected = re.search(rf"(?:^|,)[ \t]*{re.escape(member)}[ \t]*(?:,|\Z)", raw) is not None
    assert _is_member(raw, member) is expected


def test_signature_among_other_members_is_found() -> None:
    parts = signed()
    text = parts.headers["signature"]
    other = http_sf.ser({"other": b"\x01" * 64})
    assert verify(parts.with_headers({"Signature": f"{other}, {text}"}))
    assert verify(parts.with_headers({"Signature": f"{text} ,\t{other}"}))


def test_newline_in_path_cannot_inject_a_base_line() -> None:
    with pytest.raises(errors.RequestComponentInvalid):
        verify(dataclasses.replace(signed(), path='/api\n"@method": GET'))
    with pytest.raises(errors.RequestComponentInvalid):
        verify(dataclasses.replace(signed(), path="api/v1/batches"))


# --- Content-Digest -----------------------------------------------------------------------------


def test_content_digest_refusals() -> None:
    good = content_digest(BODY)
    check_content_digest(good, BODY)
    check_content_digest(
        f"{good}, sha-512=:{base64.b64encode(hashlib.sha512(BODY).digest()).decode()}:", BODY
    )
    cases: list[tuple[str | None, type[errors.RequestSignatureError]]] = [
        (None, errors.ContentDigestMissing),
        ("", errors.ContentDigestMalformed),
        ("sha-256", errors.ContentDigestMalformed),
        ('sha-256="abc"', errors.ContentDigestMalformed),
        (f"{good};x=1", errors.ContentDigestMalformed),
        (f"{good}, {good}", errors.ContentDigestMalformed),
        ("md5=:1B2M2Y8AsgTpgAmY7PhCfg==:", errors.ContentDigestAlgorithm),
        (f"{good}, sha=:2jmj7l5rSw0yVb/vlWAYkK/YBwk=:", errors.ContentDigestAlgorithm),
        (content_digest(b"other"), errors.ContentDigestMismatch),
        (f"{good}, sha-512=:{base64.b64encode(bytes(64)).decode()}:", errors.ContentDigestMismatch),
    ]
    for header, expected in cases:
        with pytest.raises(expected):
            check_content_digest(header, BODY)


# --- Errors and policy --------------------------------------------------------------------------


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found


def test_every_refusal_is_a_401_with_its_own_code() -> None:
    kinds = _subclasses(errors.RequestSignatureError)
    assert len(kinds) >= 20
    assert all(kind.status == 401 for kind in kinds)
    codes = [kind.code for kind in (errors.RequestSignatureError, *kinds)]
    assert len(codes) == len(set(codes))


def test_policy_must_require_content_digest_and_ed25519() -> None:
    with pytest.raises(ValueError, match="content-digest"):
        SignaturePolicy(required_components=("@method", "@authority", "@path", "@query"))
    with pytest.raises(ValueError, match="derived"):
        SignaturePolicy(required_components=("content-digest",))
    with pytest.raises(ValueError, match="ed25519"):
        SignaturePolicy(alg="rsa-pss-sha512")
    with pytest.raises(ValueError, match="positive"):
        SignaturePolicy(max_age=0)


@given(
    covered=st.lists(
        st.sampled_from([*COVERED_COMPONENTS, "content-type", "x-a"]), unique=True, max_size=7
    ),
    params=st.dictionaries(
        st.sampled_from(sorted(["created", "expires", "keyid", "nonce", "alg", "tag"])),
        st.one_of(
            st.integers(-(10**15) + 1, 10**15 - 1),
            st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20),
        ),
    ),
)
def test_signature_params_serialisation_equals_http_sf(
    covered: list[str], params: dict[str, int | str]
) -> None:
    assert _serialise_params(covered, params) == http_sf.ser([_inner_list(covered, params)])


# --- Property: any flipped byte is refused, with a typed error ----------------------------------

SIGNED = signed()


def _flip_text(text: str, index: int, mask: int) -> str:
    data = bytearray(text.encode("latin-1"))
    data[index % len(data)] ^= mask
    return data.decode("latin-1")


@settings(max_examples=400, deadline=None)
@given(
    target=st.sampled_from(["signature", "signature-input", "body", "path"]),
    index=st.integers(min_value=0, max_value=10_000),
    mask=st.integers(min_value=1, max_value=255),
)
def test_any_flipped_byte_is_refused_with_a_typed_error(target: str, index: int, mask: int) -> None:
    parts = SIGNED
    if target == "body":
        body = bytearray(parts.body)
        body[index % len(body)] ^= mask
        parts = dataclasses.replace(parts, body=bytes(body))
    elif target == "path":
        parts = dataclasses.replace(parts, path=_flip_text(parts.path, index, mask))
    else:
        parts = parts.with_headers({target: _flip_text(parts.headers[target], index, mask)})
    with pytest.raises(errors.RequestSignatureError):
        verify(parts)


_HEADER_TEXT = st.text(st.characters(min_codepoint=0x09, max_codepoint=0xFF), max_size=300)


@settings(max_examples=300, deadline=None)
@given(
    target=st.sampled_from(["signature", "signature-input", "content-digest"]),
    text=_HEADER_TEXT | st.sampled_from(["sig1=", "sig1=()", 'sig1=();tag="sluis"', "sig1=?1"]),
)
def test_arbitrary_header_text_is_refused_with_a_typed_error(target: str, text: str) -> None:
    with pytest.raises(errors.RequestSignatureError):
        verify(SIGNED.with_headers({target: text}))


# --- Remaining edges ----------------------------------------------------------------------------


def test_signature_base_refuses_what_it_cannot_build() -> None:
    with pytest.raises(errors.ComponentNotAllowed):
        signature_base(REQUEST, ("@target-uri",), {})
    with pytest.raises(errors.ComponentNotAllowed):
        signature_base(REQUEST, ("Content-Type",), {})


def test_control_character_in_covered_header_is_refused() -> None:
    parts = forge(REQUEST, (*COVERED_COMPONENTS, "content-type"), sluis_params())
    with pytest.raises(errors.RequestComponentInvalid):
        verify(parts.with_headers({"Content-Type": "application/json\r\nX-Evil: 1"}))


def test_covered_component_that_is_not_a_string_is_refused() -> None:
    parts = signed()
    as_token = parts.headers["signature-input"].replace('"@path"', "path")
    with pytest.raises(errors.SignatureHeaderMalformed, match="not a string"):
        verify(parts.with_headers({"Signature-Input": as_token}))


def test_expires_before_created_is_refused() -> None:
    with pytest.raises(errors.SignatureParameterInvalid, match="expires before"):
        verify(forge(REQUEST, COVERED_COMPONENTS, sluis_params(expires=NOW - 1)))


def test_directory_answer_for_another_key_id_is_refused() -> None:
    def wrong(key_id: str) -> ResolvedKey:
        return DIRECTORY[OTHER.public.key_id]

    with pytest.raises(errors.KeyIdMismatch):
        verify_request(signed(), resolve_key=wrong, policy=POLICY, now=NOW)


def test_headers_mapping_behaves() -> None:
    headers = Headers({"Content-Type": "a"})
    assert len(headers) == 1
    assert headers == {"content-type": "a"}
    assert headers != ["content-type"]
    assert "content-type" in repr(headers)
