"""Partners and keys (role admin): add a partner, register a key after comparing fingerprints,
rotate, revoke; each partner's last delivery. Everything goes through the key-directory
service, which records it in the register."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from gateway.api.exchange import POLICY_KEY
from gateway.crypto.errors import KeyFormatError
from gateway.crypto.keys import MAX_KEY_FILE_BYTES, PublicKeys
from gateway.errors import InvalidRequest, NotFound, SluisError
from gateway.policy import Policy
from gateway.services import key_directory as directory
from gateway.store import exchange as exchange_store
from gateway.store import key_directory as directory_store
from gateway.web import current_instance, request_connection

from .views import _now, bp, current_user, requires_role

#: What a finished action says on the partners page (keys of ``?done=``).
DONE = ("added", "registered", "rotated", "revoked")


def _by() -> str:
    user = current_user()
    return user.username if user else "console"


def _page(message: str | None = None, status: int = 200) -> tuple[str, int]:
    conn = request_connection()
    policy: Policy = current_app.extensions[POLICY_KEY]
    partners = directory_store.list_partners(conn)
    known = {p.id for p in partners}
    activity = exchange_store.last_activity(conn)
    rows = [
        (p, directory_store.keys_of(conn, p.id), activity.get(p.id, (None, None))) for p in partners
    ]
    done = request.args.get("done", "")
    return render_template(
        "console/partners.html",
        rows=rows,
        candidates=[p for p in policy.parties.values() if p.id not in known],
        message=message,
        done=done if done in DONE else "",
    ), status


@bp.route("/partners")
@requires_role
def partners() -> tuple[str, int]:
    return _page()


@bp.route("/partners/add", methods=["POST"])
@requires_role
def partner_add() -> BaseResponse | tuple[str, int]:
    instance = current_instance()
    try:
        directory.add_partner(
            request_connection(),
            current_app.extensions[POLICY_KEY],
            request.form.get("partner_id", "").strip(),
            now=_now(),
            by=_by(),
            register=instance.register,
        )
    except SluisError as refused:  # not a covenant party, or already added: said on the page
        return _page(refused.detail, refused.status)
    return redirect(url_for("console.partners", done="added"), 303)


def _read_upload() -> bytes:
    upload = request.files.get("public_key_file")
    if upload is None or not upload.filename:
        raise InvalidRequest(_("Choose the partner's .pub.json file."))
    data = upload.stream.read(MAX_KEY_FILE_BYTES + 1)
    return bytes(data)


@bp.route("/partners/keys", methods=["POST"])
@requires_role
def key_upload() -> tuple[str, int]:
    """Step 1: read the public-key file and show its fingerprint for comparison."""
    action = request.form.get("action", "register")
    try:
        data = _read_upload()
        keys = PublicKeys.from_json(data)
    except (InvalidRequest, KeyFormatError) as refused:  # a bad file: said on the page
        return _page(refused.detail, 400)
    if directory_store.get_partner(request_connection(), keys.partner) is None:
        return _page(_("Add the partner '%(id)s' first.", id=keys.partner), 400)
    return render_template(
        "console/key_confirm.html",
        keys=keys,
        key_file=data.decode("utf-8"),
        action="rotate" if action == "rotate" else "register",
    ), 200


@bp.route("/partners/keys/confirm", methods=["POST"])
@requires_role
def key_confirm() -> BaseResponse | tuple[str, int]:
    """Step 2: the admin confirms the fingerprint matches what the partner read aloud."""
    try:
        keys = PublicKeys.from_json(request.form.get("key_file", "").encode("utf-8"))
    except KeyFormatError as refused:  # the hidden field was tampered with: start again
        return _page(refused.detail, 400)
    if request.form.get("fingerprint") != keys.fingerprint:
        return _page(_("The key changed between the two steps: upload the file again."), 400)
    if request.form.get("fingerprint_matches") != "yes":
        return _page(
            _("The key was not registered: the fingerprint was not confirmed as matching."), 400
        )
    instance = current_instance()
    action = request.form.get("action", "register")
    try:
        if action == "rotate":
            directory.rotate_key(
                request_connection(), keys, now=_now(), by=_by(), register=instance.register
            )
        else:
            directory.register_key(
                request_connection(), keys, now=_now(), by=_by(), register=instance.register
            )
    except SluisError as refused:  # already registered, nothing to rotate: said on the page
        return _page(refused.detail, refused.status)
    return redirect(
        url_for("console.partners", done="rotated" if action == "rotate" else "registered"), 303
    )


@bp.route("/partners/keys/revoke", methods=["POST"])
@requires_role
def key_revoke() -> BaseResponse | tuple[str, int]:
    reason = request.form.get("reason", "").strip()
    if not reason:
        return _page(_("Give the reason for revoking the key."), 400)
    key_id = request.form.get("key_id", "")
    try:
        directory.revoke_key(
            request_connection(),
            key_id,
            now=_now(),
            reason=reason[:500],
            by=_by(),
            register=current_instance().register,
        )
    except (NotFound, SluisError) as refused:  # unknown or already revoked: said on the page
        return _page(refused.detail, refused.status)
    return redirect(url_for("console.partners", done="revoked"), 303)
