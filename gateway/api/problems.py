"""One problem+json shape (RFC 9457) for every error the API returns.

Shape: ``type``, ``title``, ``status``, ``detail``, ``instance``, ``code``, on 401 a ``reason``
naming the failed signature check, and, for schema errors, ``invalidParams`` (a list of
``name``/``code``/``reason``, as the Dutch API Design Rules use it). Tests pin this shape.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, json, request
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException

from gateway.errors import ApiProblem, InvalidRequest, PayloadTooLarge, SluisError

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger(__name__)


class InvalidParamSchema(Schema):
    name = fields.String(required=True, metadata={"description": "The field, e.g. `rows[3].x`."})
    code = fields.String(required=True, metadata={"description": "Machine code, e.g. `invalid`."})
    reason = fields.String(required=True, metadata={"description": "What is wrong with it."})


class ProblemSchema(Schema):
    """The body of every error response (``application/problem+json``, RFC 9457)."""

    type = fields.String(
        required=True, metadata={"description": "URN of the problem: `urn:sluis:problem:<code>`."}
    )
    title = fields.String(required=True, metadata={"description": "Short, fixed summary."})
    status = fields.Integer(required=True, metadata={"description": "The HTTP status code."})
    detail = fields.String(required=True, metadata={"description": "What happened and what to do."})
    instance = fields.String(required=True, metadata={"description": "The request path."})
    code = fields.String(required=True, metadata={"description": "Stable machine code."})
    reason = fields.String(
        metadata={
            "description": "Only on 401: which request-signature check failed, e.g. "
            "`signature-expired` or `signature-replayed`."
        }
    )
    invalid_params = fields.List(
        fields.Nested(InvalidParamSchema),
        data_key="invalidParams",
        metadata={"description": "Only on 400 for invalid input: one entry per invalid field."},
    )


def problem_type(code: str) -> str:
    return f"urn:sluis:problem:{code}"


def problem_response(status: int, code: str, title: str, detail: str, **extra: Any) -> Response:
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
        "code": code,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Signature realm="sluis"'
    return response


def _flatten_messages(messages: Any, prefix: str = "") -> list[dict[str, str]]:
    """marshmallow/webargs messages -> invalidParams entries (name, code, reason)."""
    out: list[dict[str, str]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            if isinstance(key, int):
                name = f"{prefix}[{key}]"
            elif not prefix and key in ("json", "query", "headers", "form", "files", "path"):
                name = ""  # webargs' location level: not part of the field's name
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            out.extend(_flatten_messages(value, name))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out.extend({"name": prefix or "body", "code": "invalid", "reason": m} for m in messages)
    elif isinstance(messages, list):
        for i, value in enumerate(messages):
            out.extend(_flatten_messages(value, f"{prefix}[{i}]"))
    else:
        out.append({"name": prefix or "body", "code": "invalid", "reason": str(messages)})
    return out


def render_sluis_error(error: SluisError) -> Response:
    if not isinstance(error, ApiProblem):
        kind = type(error).__name__  # the class only: messages can carry request data
        log.error("request failed: %s (%s)", error.code, kind)
    return problem_response(error.status, error.code, error.title, error.detail, **error.extra)


def render_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None)
    if status == 422 and isinstance(data, dict) and "messages" in data:
        invalid = _flatten_messages(data["messages"])
        first = invalid[0] if invalid else {"name": "body", "reason": "invalid"}
        return problem_response(
            400,
            InvalidRequest.code,
            InvalidRequest.title,
            f"The request is not valid: {first['name']}: {first['reason']}",
            invalidParams=invalid,
        )
    if status == 413:
        return problem_response(
            413,
            PayloadTooLarge.code,
            PayloadTooLarge.title,
            "The request body is larger than this gateway accepts (SLUIS_MAX_REQUEST_BYTES).",
        )
    code = (error.name or "error").lower().replace(" ", "-")
    return problem_response(status, code, error.name or "Error", error.description or "")


def render_unexpected(error: Exception) -> Response:
    # Never a traceback or exception text to the client; the log gets the type only, because
    # exception messages can carry data from the request.
    kind = type(error).__name__
    log.error("unexpected %s while handling %s", kind, request.endpoint)
    return problem_response(
        500, "internal-error", "Internal error", "The gateway failed to handle this request."
    )


def install(app: Flask) -> None:
    app.register_error_handler(SluisError, render_sluis_error)
    app.register_error_handler(HTTPException, render_http_exception)
    app.register_error_handler(Exception, render_unexpected)
