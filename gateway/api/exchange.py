"""API v1 for partners: submit sealed envelopes, read the inbox, fetch and acknowledge, report a
mismatch, fetch the signed policy and directory, see a case, follow the register.

Views parse (marshmallow), call a service, render. Every route here needs a signed request
(:mod:`gateway.api.auth`); the partner is ``g.principal``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from json.encoder import encode_basestring_ascii as _json_string
from typing import Any, cast

from flask import Response, current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from gateway.api.auth import pending_nonce
from gateway.api.query import QUERY
from gateway.errors import InvalidRequest, NotFound
from gateway.policy import Policy
from gateway.register import merkle
from gateway.services.exchange import (
    DEFAULT_INBOX_STATES,
    INBOX_STATES,
    MISMATCH_REASONS,
    Deliveries,
    Exchange,
    InboxPage,
)
from gateway.services.publication import (
    b64u,
    directory_document,
    published_policy,
    sign_directory,
)
from gateway.store import register as register_store
from gateway.web import current_instance, request_connection

POLICY_KEY = "sluis.policy"
CLOCK_KEY = "sluis.clock"
MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{22}\Z")  # 16 random bytes, base64url
FLOW_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}\Z")
CASE_REF = re.compile(r"case-[0-9a-f]{20}\Z")
MAX_INBOX_PAGE = 500

blp = Blueprint(
    "exchange",
    __name__,
    url_prefix="/api/v1",
    description="The exchange: sealed envelopes between covenant partners.",
)


def _policy() -> Policy:
    policy: Policy = current_app.extensions[POLICY_KEY]
    return policy


def _now() -> datetime:
    clock = cast(Callable[[], datetime], current_app.extensions[CLOCK_KEY])
    return clock()


def _partner() -> str:
    partner: str = g.principal.id
    return partner


def _message_id(value: str) -> str:
    if not MESSAGE_ID.match(value):
        raise NotFound(f"No envelope {value[:64]!r} is addressed to you.")
    return value


# -- schemas --------------------------------------------------------------------------------


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class BatchSchema(StrictSchema):
    envelopes = fields.List(
        fields.Dict(),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "Sealed envelopes (docs/ENVELOPE.md), each a JSON object."},
    )


class ReceiptSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    format = fields.String(required=True)
    messageId = fields.String(allow_none=True)  # noqa: N815 - API names are camelCase
    outcome = fields.String(required=True, metadata={"description": "`accepted` or `refused`."})
    reasons = fields.List(fields.Dict(), required=True)
    caseRef = fields.String(allow_none=True)  # noqa: N815
    entry = fields.String(required=True, metadata={"description": "The register entry, as hashed."})
    index = fields.Integer(required=True)
    treeSize = fields.Integer(required=True)  # noqa: N815
    rootHash = fields.String(required=True)  # noqa: N815
    inclusionProof = fields.List(fields.String(), required=True)  # noqa: N815
    signature = fields.String(required=True)


class BatchResultSchema(Schema):
    accepted = fields.Integer(required=True)
    refused = fields.Integer(required=True)
    repeated = fields.Integer(
        required=True, metadata={"description": "Envelopes submitted before: stored receipt."}
    )
    receipts = fields.List(fields.Nested(ReceiptSchema), required=True)


class InboxQuerySchema(StrictSchema):
    flow = fields.String(
        # marshmallow 4 ignores a validator's False: Regexp raises (anchored by FLOW_NAME's \Z).
        validate=validate.Regexp(FLOW_NAME),
        metadata={"pattern": "^[a-z0-9][a-z0-9-]{0,62}$", "description": "A flow id."},
    )
    state = fields.List(
        fields.String(validate=validate.OneOf(INBOX_STATES)),
        metadata={"description": f"Delivery states; default {', '.join(DEFAULT_INBOX_STATES)}."},
    )
    cursor = fields.String(validate=validate.Length(max=64))
    limit = fields.Integer(load_default=100, validate=validate.Range(1, MAX_INBOX_PAGE))


INBOX_QUERY = InboxQuerySchema()


class InboxItemSchema(Schema):
    messageId = fields.String(required=True)  # noqa: N815
    flow = fields.String(required=True)
    sender = fields.String(required=True)
    caseRef = fields.String(required=True)  # noqa: N815
    priority = fields.Boolean(required=True)
    receivedAt = fields.String(required=True)  # noqa: N815
    state = fields.String(required=True)
    size = fields.Integer(required=True, metadata={"description": "Bytes of the sealed envelope."})


class InboxSchema(Schema):
    items = fields.List(fields.Nested(InboxItemSchema), required=True)
    nextCursor = fields.String(allow_none=True)  # noqa: N815


class DeliverySchema(Schema):
    messageId = fields.String(required=True)  # noqa: N815
    state = fields.String(required=True)
    deliveredAt = fields.String(allow_none=True)  # noqa: N815
    acknowledgedAt = fields.String(allow_none=True)  # noqa: N815


class MismatchSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.OneOf(MISMATCH_REASONS))


class MismatchResultSchema(Schema):
    messageId = fields.String(required=True)  # noqa: N815
    reason = fields.String(required=True)
    recorded = fields.Boolean(
        required=True, metadata={"description": "False when you had reported it before."}
    )


class PolicyBundleSchema(Schema):
    versionId = fields.String(required=True)  # noqa: N815
    effectiveFrom = fields.String(required=True)  # noqa: N815
    publishedAt = fields.String(required=True)  # noqa: N815
    keyFingerprint = fields.String(required=True)  # noqa: N815
    bundle = fields.String(required=True, metadata={"description": "base64url canonical bundle."})
    signature = fields.String(required=True, metadata={"description": "base64url Ed25519."})


class DirectorySchema(Schema):
    document = fields.String(required=True, metadata={"description": "base64url canonical JSON."})
    signature = fields.String(required=True, metadata={"description": "base64url Ed25519."})
    keyFingerprint = fields.String(required=True)  # noqa: N815


class CaseSchema(Schema):
    caseRef = fields.String(required=True)  # noqa: N815
    state = fields.String(required=True)
    priority = fields.Boolean(required=True)
    openedAt = fields.String(required=True)  # noqa: N815
    stateSince = fields.String(required=True)  # noqa: N815
    deadline = fields.String(allow_none=True, metadata={"description": "Due date (working days)."})
    closed = fields.Boolean(required=True)
    parties = fields.List(fields.String(), required=True)


class CheckpointQuerySchema(StrictSchema):
    fromSize = fields.Integer(validate=validate.Range(min=0))  # noqa: N815


class CheckpointSchema(Schema):
    checkpoint = fields.String(required=True, metadata={"description": "C2SP signed note."})
    size = fields.Integer(required=True)
    fromSize = fields.Integer(allow_none=True)  # noqa: N815
    consistencyProof = fields.List(fields.String(), required=True)  # noqa: N815


# -- views ------------------------------------------------------------------------------------


@blp.route("/envelope-batches")
class EnvelopeBatches(MethodView):
    @blp.arguments(BatchSchema)
    @blp.response(200, BatchResultSchema)
    def post(self, body: dict[str, Any]) -> Response:
        """Submit sealed envelopes; each gets its own signed receipt with an inclusion proof."""
        instance = current_instance()
        limit = instance.settings.batch_max_envelopes
        envelopes = body["envelopes"]
        if len(envelopes) > limit:
            raise InvalidRequest(
                f"A batch holds at most {limit} envelopes; this one holds {len(envelopes)}: "
                "split it.",
                invalidParams=[
                    {"name": "envelopes", "code": "too-many", "reason": f"at most {limit}"}
                ],
            )
        conn = request_connection()
        published_policy(conn, _policy())
        nonce = pending_nonce()  # spent as the first statement of the batch's transaction
        result = Exchange(conn, instance, _policy()).submit(
            _partner(), envelopes, now=_now(), first_write=None if nonce is None else nonce.spend
        )
        # The receipts are signed canonical JSON already: they go out byte for byte, inside a
        # document of exactly BatchResultSchema's fields (a test validates it against it).
        head = json.dumps(
            {"accepted": result.accepted, "refused": result.refused, "repeated": result.repeated}
        ).encode()
        data = head[:-1] + b', "receipts": [' + b",".join(result.receipts) + b"]}"
        return Response(data, status=200, mimetype="application/json")


#: One inbox item: exactly InboxItemSchema's fields (a test compares it with ``json.dumps``).
_INBOX_ITEM = (
    '{{"messageId":{},"flow":{},"sender":{},"caseRef":{},"priority":{},'
    '"receivedAt":{},"state":{},"size":{}}}'
)


def inbox_json(page: InboxPage) -> str:
    """The inbox document, serialised directly: every string through ``json``'s own escaper.

    Dumping 100 items through marshmallow cost half of the request; building 100 dicts for
    ``json.dumps`` cost about 30 us a listing more than this (of some 650 in-process).
    """
    text = _json_string
    items = ",".join(
        _INBOX_ITEM.format(
            text(d.message_id),
            text(d.flow),
            text(d.sender),
            text(d.case_ref),
            "true" if d.priority else "false",
            text(d.received_at),
            text(d.state),
            int(d.size),
        )
        for d in page.items
    )
    cursor = "null" if page.next_cursor is None else text(page.next_cursor)
    return f'{{"items":[{items}],"nextCursor":{cursor}}}'


@blp.route("/inbox")
class Inbox(MethodView):
    # One schema instance for every request: given the class, webargs built (and deep-copied
    # the fields of) a new one per request. Loading keeps no state on the instance.
    @blp.arguments(INBOX_QUERY, **QUERY)
    @blp.response(200, InboxSchema)
    def get(self, query: dict[str, Any]) -> Response:
        """Your envelopes (metadata only): priority cases first, then oldest first."""
        page = Deliveries(request_connection(), current_instance(), _policy()).inbox(
            _partner(),
            flow=query.get("flow"),
            states=query.get("state"),
            cursor=query.get("cursor"),
            limit=query["limit"],
        )
        return Response(inbox_json(page), status=200, mimetype="application/json")


@blp.route("/envelopes/<string:message_id>")
class EnvelopeItem(MethodView):
    @blp.response(200, {"type": "object", "description": "The sealed envelope (ENVELOPE.md)."})
    def get(self, message_id: str) -> Response:
        """Fetch a sealed envelope addressed to you; the first fetch records its delivery."""
        data = Deliveries(request_connection(), current_instance(), _policy()).fetch(
            _partner(), _message_id(message_id), now=_now()
        )
        return Response(data, status=200, mimetype="application/json")


@blp.route("/envelopes/<string:message_id>/acknowledgement")
class Acknowledgement(MethodView):
    @blp.response(200, DeliverySchema)
    def post(self, message_id: str) -> dict[str, Any]:
        """Confirm you received and opened the envelope (idempotent)."""
        delivery = Deliveries(request_connection(), current_instance(), _policy()).acknowledge(
            _partner(), _message_id(message_id), now=_now()
        )
        return {
            "messageId": delivery.message_id,
            "state": delivery.state,
            "deliveredAt": delivery.delivered_at,
            "acknowledgedAt": delivery.acknowledged_at,
        }


@blp.route("/envelopes/<string:message_id>/mismatch-reports")
class MismatchReports(MethodView):
    @blp.arguments(MismatchSchema)
    @blp.response(201, MismatchResultSchema)
    def post(self, body: dict[str, Any], message_id: str) -> dict[str, Any]:
        """Report that an envelope you opened did not match its header (flagged to the FG)."""
        recorded = Deliveries(request_connection(), current_instance(), _policy()).report_mismatch(
            _partner(), _message_id(message_id), body["reason"], now=_now()
        )
        return {"messageId": message_id, "reason": body["reason"], "recorded": recorded}


@blp.route("/policy-bundle")
class PolicyBundle(MethodView):
    @blp.response(200, PolicyBundleSchema)
    def get(self) -> dict[str, Any]:
        """The signed policy bundle your client must seal under."""
        version = published_policy(request_connection(), _policy())
        return {
            "versionId": version.version_id,
            "effectiveFrom": version.effective_from,
            "publishedAt": version.published_at,
            "keyFingerprint": version.key_fingerprint,
            "bundle": b64u(version.bundle),
            "signature": b64u(version.signature),
        }


@blp.route("/partner-directory")
class PartnerDirectory(MethodView):
    @blp.response(200, DirectorySchema)
    def get(self) -> dict[str, Any]:
        """The signed directory of partners and their public keys, for sealing and verifying."""
        instance = current_instance()
        document = directory_document(request_connection(), _policy(), _now())
        return {
            "document": b64u(document),
            "signature": b64u(sign_directory(instance.signing_key, document)),
            "keyFingerprint": instance.signing_key.fingerprint,
        }


@blp.route("/cases/<string:case_ref>")
class CaseItem(MethodView):
    @blp.response(200, CaseSchema)
    def get(self, case_ref: str) -> dict[str, Any]:
        """The minimal state of a case you are a party to."""
        if not CASE_REF.match(case_ref):
            raise NotFound(f"No case {case_ref[:64]!r} that you are a party to.")
        case = Deliveries(request_connection(), current_instance(), _policy()).case(
            _partner(), case_ref
        )
        return {
            "caseRef": case.case_ref,
            "state": case.state,
            "priority": case.priority,
            "openedAt": case.opened_at,
            "stateSince": case.state_since,
            "deadline": case.deadline,
            "closed": case.closed_at is not None,
            "parties": list(case.parties),
        }


@blp.route("/register-checkpoint")
class RegisterCheckpoint(MethodView):
    @blp.arguments(CheckpointQuerySchema, **QUERY)
    @blp.response(200, CheckpointSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """The latest signed checkpoint, with a consistency proof from the size you hold."""
        conn = request_connection()
        register = current_instance().register
        latest = register_store.latest_checkpoint(conn)
        if latest is None:
            raise NotFound("The register has no signed checkpoint yet.")
        old = query.get("fromSize")
        proof: list[bytes] = []
        if old is not None:
            if old > latest.size:
                raise InvalidRequest(
                    f"fromSize {old} is beyond the latest checkpoint ({latest.size}).",
                    invalidParams=[{"name": "fromSize", "code": "too-large", "reason": "beyond"}],
                )
            proof = register.hashes(conn, merkle.consistency_ranges(old, latest.size))
        return {
            "checkpoint": latest.note,
            "size": latest.size,
            "fromSize": old,
            "consistencyProof": [h.hex() for h in proof],
        }
