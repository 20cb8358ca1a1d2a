"""API v1 notices: the warnings the scheduler raised for the calling partner.

Views parse (marshmallow), call a service, render. A signed request is required; the partner
sees only its own notices. A notice carries no personal data.
"""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields, validate

from gateway.api.query import QUERY
from gateway.scheduler.jobs import NOTICE_KINDS
from gateway.services import notices
from gateway.web import request_connection

blp = Blueprint(
    "notices",
    __name__,
    url_prefix="/api/v1",
    description="Warnings for partners: overdue cases, expired envelopes, missing deliveries.",
)


class NoticeQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    after = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0),
        metadata={"description": "Only notices with a larger id (the last page's `nextAfter`)."},
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(1, notices.MAX_PAGE))


class NoticeSchema(Schema):
    id = fields.Integer(required=True)
    createdAt = fields.String(required=True)  # noqa: N815 - API names are camelCase
    kind = fields.String(
        required=True, metadata={"description": f"One of {', '.join(NOTICE_KINDS)}."}
    )
    caseRef = fields.String(allow_none=True)  # noqa: N815
    state = fields.String(allow_none=True)
    daysOverdue = fields.Integer(  # noqa: N815
        allow_none=True,
        metadata={"description": "Days past the due date (negative: days left)."},
    )
    dueDate = fields.String(  # noqa: N815
        allow_none=True, metadata={"format": "date", "description": "YYYY-MM-DD."}
    )
    reference = fields.String(
        allow_none=True, metadata={"description": "A message id, key id or month (YYYY-MM)."}
    )


class NoticeListSchema(Schema):
    items = fields.List(fields.Nested(NoticeSchema), required=True)
    nextAfter = fields.Integer(allow_none=True)  # noqa: N815


@blp.route("/notices")
class Notices(MethodView):
    @blp.arguments(NoticeQuerySchema, **QUERY)
    @blp.response(200, NoticeListSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Your notices, oldest first: overdue cases, expired envelopes, missing deliveries,
        expiring keys."""
        page = notices.for_partner(
            request_connection(), g.principal.id, after=query["after"], limit=query["limit"]
        )
        return {
            "items": [
                {
                    "id": n.id,
                    "createdAt": n.created_at,
                    "kind": n.kind,
                    "caseRef": n.case_ref,
                    "state": n.state,
                    "daysOverdue": n.days_overdue,
                    "dueDate": n.due_date,
                    "reference": n.reference,
                }
                for n in page.items
            ],
            "nextAfter": page.next_after,
        }
