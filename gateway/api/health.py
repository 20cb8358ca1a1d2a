"""``GET /api/v1/health``: is the store open, and at which schema version."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from gateway.store.health import store_status
from gateway.web import request_connection

blp = Blueprint(
    "health", __name__, url_prefix="/api/v1", description="Liveness of the gateway and its store."
)


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"description": "`ok` when the store opens."})
    schemaVersion = fields.Integer(  # noqa: N815 - API field names are camelCase
        required=True, metadata={"description": "Schema version of the database."}
    )


@blp.route("/health")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    def get(self) -> dict[str, Any]:
        """Report that the gateway runs and its encrypted store opens."""
        return {"status": "ok", **store_status(request_connection())}
