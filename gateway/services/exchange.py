"""The exchange: submit batches of sealed envelopes, route cases, deliver to inboxes.

Every envelope of a batch gets its own decision; the whole batch (envelopes, deliveries, case
changes, register entries, receipt references) is stored in one transaction, so a crash leaves
nothing of it. Receipts are signed after that transaction, outside the database's write lock:
each follows from the stored register entry, the batch's tree size and the decision, so a
resubmission of the same message ids rebuilds the same receipt bytes (Ed25519 signatures are
deterministic) and stores nothing twice.
The gateway sees only clear headers: it decides on flow, sender, recipients, field *names*,
routing attributes and case state, never on a field value.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from gateway.crypto.envelope import Envelope, envelope_from_json, verify_sender
from gateway.crypto.errors import CryptoError, EnvelopeTooLarge
from gateway.errors import Gone, InvalidRequest, NotFound
from gateway.instance import Instance
from gateway.policy import Policy
from gateway.policy.deadlines import state_deadline
from gateway.policy.engine import Decision, Recipient, Transfer, evaluate
from gateway.register.entry import Actor, Event, RecipientFields, is_token, iso_time
from gateway.register.log import Appended, AppendedBatch, RegisterError
from gateway.register.receipt import ReceiptReason, build_receipt
from gateway.services.key_directory import DirectorySenderKeys, usable_at
from gateway.store import Connection, transaction
from gateway.store import exchange as store
from gateway.store import key_directory as directory
from gateway.store import register as register_store
from gateway.store.exchange import CaseRecord, NewEnvelope, StoredReceipt

MAX_ENVELOPE_BYTES = 1024 * 1024
CLOSED = "closed"
INTAKE_ROLE = "municipality-intake"
ACK_EVENT = "acknowledged-by-intake"

#: Dutch sentences for refusals that come from the envelope checks (the policy engine gives
#: its own in both languages).
ENVELOPE_REASONS_NL = {
    "envelope-malformed": "De envelop is niet goed opgebouwd.",
    "envelope-too-large": "De envelop is groter dan 1 MiB.",
    "envelope-version": "Deze envelopversie wordt niet ondersteund.",
    "unknown-sender-key": "De sleutel van de afzender is niet geregistreerd.",
    "sender-key-revoked": "De sleutel van de afzender is ingetrokken of niet geldig.",
    "signature-invalid": "De handtekening van de afzender klopt niet.",
    "not-a-recipient": "De sleutel van de afzender hoort niet bij deze envelop.",
    "sender-mismatch": "De afzender in de envelop heeft het verzoek niet ondertekend.",
    "recipient-key-unknown": "Een ontvanger heeft geen actieve sleutel met dit kenmerk.",
    "subject-ref-missing": "Een signaal heeft een pseudonieme verwijzing naar de betrokkene nodig.",
    "case-ref-missing": "Deze stroom moet een bestaande zaak noemen.",
    "case-unknown": "Deze zaak bestaat niet of u bent er geen partij in.",
    "case-closed": "Deze zaak is afgesloten.",
    "message-id-reused": "Dit bericht-id is al gebruikt voor een ander bericht.",
}


_REUSED = "This message id was used for another message."


@dataclass(frozen=True)
class SubmitResult:
    receipts: tuple[bytes, ...]
    accepted: int
    refused: int
    repeated: int


@dataclass
class _Item:
    """One envelope of a batch on its way to a receipt."""

    position: int
    envelope: Envelope | None = None
    wire: bytes = b""
    digest: bytes = b""
    message_id: str | None = None
    reasons: list[ReceiptReason] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    case_ref: str | None = None
    earlier: StoredReceipt | None = None  # what is kept of an earlier submission's receipt
    new: NewEnvelope | None = None
    verified_key: bytes | None = None  # the sender key its signature verified with

    @property
    def accepted(self) -> bool:
        return self.earlier is None and not self.reasons


def _refusal(code: str, detail_en: str) -> ReceiptReason:
    return ReceiptReason(code, "envelope", ENVELOPE_REASONS_NL.get(code, detail_en), detail_en)


def _parse(position: int, document: Any) -> _Item:
    item = _Item(position)
    try:
        envelope = envelope_from_json(document)
        wire = envelope.to_bytes()
        if len(wire) > MAX_ENVELOPE_BYTES:
            raise EnvelopeTooLarge("The envelope is larger than 1 MiB.")
    except CryptoError as error:  # a bad envelope is refused on its own, the batch goes on
        item.reasons.append(_refusal(error.code, error.detail))
        return item
    item.envelope = envelope
    item.wire = wire
    item.digest = envelope.digest
    item.message_id = envelope.header.message_id
    return item


class Exchange:
    """The exchange service for one request: a connection, the instance, the current policy."""

    def __init__(self, conn: Connection, instance: Instance, policy: Policy) -> None:
        self.conn = conn
        self.instance = instance
        self.policy = policy
        self.register = instance.register
        # Key lookups of this request's transaction: a batch reads each key once.
        self._sender_keys = DirectorySenderKeys(conn, records={})
        self._active_keys: dict[str, list[directory.KeyRecord]] = {}
        self._recipient_keys_ok: dict[tuple[str, str, datetime], bool] = {}
        self._deadlines: dict[tuple[str, date, bool], str | None] = {}
        self._decisions: dict[tuple[object, ...], Decision] = {}
        self._grants: dict[tuple[str, str, tuple[str, ...]], RecipientFields] = {}
        self._stamps: dict[datetime, str] = {}
        # Cases this batch opened, inserted together before anything reads or changes them.
        self._new_cases: dict[str, CaseRecord] = {}
        self._new_case_of_subject: dict[str, str] = {}

    # -- submit --------------------------------------------------------------------------

    def submit(
        self,
        sender: str,
        documents: Sequence[Any],
        *,
        now: datetime,
        first_write: Callable[[Connection], None] | None = None,
    ) -> SubmitResult:
        """Decide and store a batch. ``first_write`` runs first inside the batch's transaction
        (the API spends the request's nonce there); if it raises, nothing is stored."""
        items = [_parse(i, d) for i, d in enumerate(documents)]
        self._verify_before_lock(sender, items)
        with transaction(self.conn):
            if first_write is not None:
                first_write(self.conn)
            self._match_earlier(sender, items)
            for item in items:
                if item.earlier is None and item.envelope is not None and not item.reasons:
                    self._decide(sender, item, now)
                if item.earlier is None:
                    item.events.insert(0, self._transfer_event(sender, item))
            recorded = self._record(sender, items, now)
        # Committed: the write lock is free while the receipts are signed. A crash from here on
        # loses only the answer; the client's retry gets the same receipts rebuilt.
        receipts = self._receipts(items, recorded)
        return SubmitResult(
            tuple(receipts),
            accepted=sum(1 for i in items if i.accepted),
            refused=sum(1 for i in items if i.earlier is None and i.reasons),
            repeated=sum(1 for i in items if i.earlier is not None),
        )

    def _verify_before_lock(self, sender: str, items: list[_Item]) -> None:
        """Check the envelopes' signatures before the write transaction takes the database's
        write lock, so the workers verify in parallel instead of one after the other.

        This only remembers which key bytes verified each envelope: inside the transaction the
        sender key is looked up again, and the signature is checked again unless that key is
        byte for byte the one that verified here (the check is a pure function of envelope
        and key). Failures are not remembered: they are decided inside the transaction.
        """
        keys = DirectorySenderKeys(self.conn, records={})
        for item in items:
            envelope = item.envelope
            if envelope is None or envelope.header.sender != sender:
                continue
            header = envelope.header
            try:
                key = keys.ed25519_for(header.sender, header.sender_key_id, header.created_at())
                verify_sender(envelope, key)
            except CryptoError:  # decided (and refused) inside the transaction, as before
                continue
            item.verified_key = key

    def _match_earlier(self, sender: str, items: list[_Item]) -> None:
        ids = [i.message_id for i in items if i.message_id is not None]
        earlier = store.get_receipts(self.conn, ids)
        first_in_batch: dict[str, _Item] = {}
        for item in items:
            if item.message_id is None:
                continue
            previous = earlier.get(item.message_id)
            if previous is not None:
                if previous.sender == sender and previous.envelope_hash == item.digest:
                    item.earlier = previous
                else:
                    item.reasons.append(_refusal("message-id-reused", _REUSED))
                    item.message_id = None  # the id belongs to the other message
                continue
            twin = first_in_batch.get(item.message_id)
            if twin is None:
                first_in_batch[item.message_id] = item
            elif twin.digest == item.digest:
                item.reasons.append(
                    _refusal("message-id-reused", "This message id occurs twice in the batch.")
                )
                item.message_id = None
            else:
                item.reasons.append(_refusal("message-id-reused", _REUSED))
                item.message_id = None

    def _decide(self, sender: str, item: _Item, now: datetime) -> None:
        assert item.envelope is not None  # noqa: S101 - only parsed envelopes get here
        header = item.envelope.header
        if header.sender != sender:
            item.reasons.append(
                _refusal("sender-mismatch", "The envelope's sender is not the signing partner.")
            )
            return
        try:
            key = self._sender_keys.ed25519_for(
                header.sender, header.sender_key_id, header.created_at()
            )
            if key != item.verified_key:  # not verified before the lock with this very key
                verify_sender(item.envelope, key)
        except CryptoError as error:  # unknown, revoked or wrong key; bad signature: refused
            item.reasons.append(_refusal(error.code, error.detail))
            return
        for entry in header.recipients:
            if not self._recipient_key_ok(entry.partner, entry.key_id, now):
                item.reasons.append(
                    _refusal(
                        "recipient-key-unknown",
                        f"Recipient '{entry.partner}' has no active key {entry.key_id}.",
                    )
                )
                return
        flow = self.policy.flows.get(header.flow)
        case: CaseRecord | None = None
        if flow is not None and flow.opens_case:
            if not header.subject_ref:
                item.reasons.append(
                    _refusal("subject-ref-missing", "A signal needs a subject reference.")
                )
                return
            case = self._open_case_for_subject(header.subject_ref)
        elif flow is not None:
            if not header.case_ref:
                item.reasons.append(_refusal("case-ref-missing", "This flow names a case."))
                return
            case = self._get_case(header.case_ref)
            if case is None or not self._may_act_on(sender, case):
                item.reasons.append(
                    _refusal("case-unknown", "No such case, or you are not a party to it.")
                )
                return
            if case.closed_at is not None:
                item.reasons.append(_refusal("case-closed", "The case is closed."))
                return
        transfer = Transfer(
            sender=sender,
            flow=header.flow,
            recipients=tuple(Recipient(r.partner, frozenset(r.fields)) for r in header.recipients),
            routing=dict(header.routing),
            case_state=None if case is None else case.state,
            policy_version=header.policy_version,
        )
        decision = self._evaluate(transfer, now)
        if not decision.allowed:
            item.reasons.extend(
                ReceiptReason(r.code, r.subject, r.message_nl, r.message_en)
                for r in decision.reasons
            )
            return
        self._apply(sender, item, case, decision, now)

    def _evaluate(self, transfer: Transfer, now: datetime) -> Decision:
        """``evaluate`` is pure and depends on ``now`` only through its date: a batch of
        alike transfers is decided once. Routing values are keyed with their type, so
        ``True`` and ``1`` (equal in Python) stay different questions."""
        key = (
            transfer.sender,
            transfer.flow,
            transfer.recipients,
            tuple((k, type(v).__name__, v) for k, v in sorted(transfer.routing.items())),
            transfer.case_state,
            transfer.policy_version,
            now.date(),
        )
        decision = self._decisions.get(key)
        if decision is None:
            decision = self._decisions[key] = evaluate(self.policy, transfer, now)
        return decision

    def _open_case_for_subject(self, subject_ref: str) -> CaseRecord | None:
        pending = self._new_case_of_subject.get(subject_ref)
        if pending is not None:
            return self._new_cases[pending]
        return store.open_case_for_subject(self.conn, subject_ref)

    def _get_case(self, case_ref: str) -> CaseRecord | None:
        pending = self._new_cases.get(case_ref)
        return pending if pending is not None else store.get_case(self.conn, case_ref)

    def _insert_new_cases(self) -> None:
        """Insert the cases this batch opened (one statement for all): before one of them is
        changed, and before the batch's envelopes, which reference them."""
        if self._new_cases:
            store.insert_cases(self.conn, list(self._new_cases.values()))
            self._new_cases.clear()
            self._new_case_of_subject.clear()

    def _may_act_on(self, sender: str, case: CaseRecord) -> bool:
        """A party to the case, or another department of a party's organisation (the
        municipality's benefits administration acting on a case its directors hold). Which
        flows it may send is still the policy engine's decision."""
        if sender in case.parties:
            return True
        own = self.policy.parties.get(sender)
        if own is None:
            return False
        return any(
            (party := self.policy.parties.get(p)) is not None
            and party.organisation == own.organisation
            for p in case.parties
        )

    def _recipient_key_ok(self, partner: str, key_id: str, now: datetime) -> bool:
        known = self._recipient_keys_ok.get((partner, key_id, now))
        if known is not None:  # the same question within this transaction: the same answer
            return known
        keys = self._active_keys.get(partner)
        if keys is None:
            keys = self._active_keys[partner] = directory.active_keys(self.conn, partner)
        ok = any(k.encryption_key_id == key_id and usable_at(k, now) for k in keys)
        self._recipient_keys_ok[(partner, key_id, now)] = ok
        return ok

    def _apply(
        self,
        sender: str,
        item: _Item,
        case: CaseRecord | None,
        decision: Decision,
        now: datetime,
    ) -> None:
        assert item.envelope is not None  # noqa: S101 - only parsed envelopes get here
        header = item.envelope.header
        stamp = self._stamps.get(now) or self._stamps.setdefault(now, iso_time(now))
        parties = (sender, *(r.partner for r in header.recipients))
        routing_priority = header.routing.get("priority")
        new_state = decision.next_state or (case.state if case else "")
        actor = Actor("partner", sender)
        if case is None:
            priority = routing_priority is True
            case = CaseRecord(
                case_ref=f"case-{secrets.token_hex(10)}",
                subject_ref=header.subject_ref or "",
                state=new_state,
                priority=priority,
                opened_by=sender,
                opened_at=stamp,
                state_since=stamp,
                deadline=self._deadline(new_state, now, priority),
                closed_at=None,
                parties=parties,
            )
            self._new_cases[case.case_ref] = case
            self._new_case_of_subject[case.subject_ref] = case.case_ref
            item.events.append(
                Event(
                    "case.opened",
                    actor,
                    flow=header.flow,
                    case=case.case_ref,
                    subjects=(case.subject_ref,),
                    attributes={"toState": new_state, "priority": int(priority)},
                )
            )
        else:
            priority = case.priority if routing_priority is None else routing_priority is True
            moved = new_state != case.state
            closing = new_state == CLOSED
            if case.case_ref in self._new_cases:  # opened earlier in this batch
                self._insert_new_cases()
            store.update_case(
                self.conn,
                case.case_ref,
                state=new_state,
                priority=priority,
                state_since=stamp if moved else case.state_since,
                deadline=(
                    self._deadline(new_state, now, priority)
                    if moved or priority != case.priority
                    else case.deadline
                ),
                closed_at=stamp if closing else None,
            )
            store.add_parties(self.conn, case.case_ref, parties)
            if moved:
                item.events.append(
                    Event(
                        "case.closed" if closing else "case.moved",
                        actor,
                        flow=header.flow,
                        case=case.case_ref,
                        subjects=(case.subject_ref,),
                        attributes={"fromState": case.state, "toState": new_state},
                    )
                )
        item.case_ref = case.case_ref
        item.new = NewEnvelope(
            message_id=header.message_id,
            sender=sender,
            flow=header.flow,
            case_ref=case.case_ref,
            received_at=stamp,
            envelope=item.wire,
            recipients=tuple(r.partner for r in header.recipients),
            priority=priority,
            received_seq=-1,  # set once the register gave the transfer its position
        )

    def _deadline(self, state: str, now: datetime, priority: bool) -> str | None:
        key = (state, now.date(), priority)
        if key in self._deadlines:  # a pure function of these three: computed once a batch
            return self._deadlines[key]
        found = self.policy.workflow.states.get(state)
        due = None if found is None else state_deadline(found, now.date(), priority=priority)
        self._deadlines[key] = None if due is None else due.isoformat()
        return self._deadlines[key]

    def _transfer_event(self, sender: str, item: _Item) -> Event:
        header = item.envelope.header if item.envelope is not None else None
        accepted = not item.reasons
        recipients: tuple[RecipientFields, ...] = ()
        if header is not None and accepted:
            recipients = tuple(
                self._recipient_fields(header.flow, r.partner, r.fields) for r in header.recipients
            )
        subject = header.subject_ref if header is not None and header.subject_ref else None
        return Event(
            "transfer.accepted" if accepted else "transfer.refused",
            Actor("partner", sender),
            outcome="success" if accepted else "refused",
            reason=None if accepted else item.reasons[0].code,
            flow=header.flow if header is not None and is_token(header.flow) else None,
            sender=sender,
            recipients=recipients,
            subjects=(subject,) if subject and accepted else (),
            subject_count=1 if accepted else 0,
            case=item.case_ref,
            policy_version=self.policy.version_id if accepted else None,
            envelope_hash=item.digest.hex() if item.digest else None,
            message_id=item.message_id if item.message_id and is_token(item.message_id) else None,
        )

    def _recipient_fields(
        self, flow_id: str, partner: str, fields: Sequence[str]
    ) -> RecipientFields:
        """What the register records of one recipient: a pure function of the policy and
        these three, asked once a batch (the answer is immutable, so events share it)."""
        key = (flow_id, partner, tuple(fields))
        found = self._grants.get(key)
        if found is not None:
            return found
        flow = self.policy.flows[flow_id]
        party = self.policy.parties[partner]
        grant = RecipientFields(partner, "unknown", key[2])  # the engine refuses this case
        for rule in flow.recipients:
            if rule.role in party.roles:
                grant = RecipientFields(partner, rule.role, key[2], str(rule.legal_basis))
                break
        self._grants[key] = grant
        return grant

    def _record(self, sender: str, items: list[_Item], now: datetime) -> _Recorded:
        """Append every event, then store the receipt references, envelopes and deliveries (in
        that order: rows reference receipts). Nothing is signed here, inside the write lock."""
        self._insert_new_cases()
        fresh = [i for i in items if i.earlier is None]
        batch = self.register.append_batch(self.conn, [e for i in fresh for e in i.events], now=now)
        appended = batch.appended
        transfer: dict[int, Appended] = {}
        cursor = 0
        for item in fresh:
            transfer[item.position] = appended[cursor]  # the transfer event is first
            cursor += len(item.events)
        to_store: list[StoredReceipt] = []
        envelopes: list[NewEnvelope] = []
        for item in fresh:
            seq = transfer[item.position].seq
            if item.message_id is not None:
                to_store.append(
                    StoredReceipt(
                        item.message_id,
                        sender,
                        item.digest,
                        "accepted" if item.accepted else "refused",
                        entry_seq=seq,
                        tree_size=batch.size,
                        case_ref=item.case_ref,
                        reasons=_reasons_json(item.reasons),
                    )
                )
            if item.new is not None:
                envelopes.append(item.new._replace(received_seq=seq))
        store.insert_receipts(self.conn, to_store)
        if envelopes:
            store.insert_envelopes(self.conn, envelopes)
        return _Recorded(batch, transfer)

    def _receipts(self, items: list[_Item], recorded: _Recorded) -> list[bytes]:
        """Every item's signed receipt: new ones with proofs to the batch's tree head, from the
        hashes the append holds (no tree reads; tests pin them to the store's proofs); repeated
        ones as stored, or rebuilt from the register."""
        batch, transfer = recorded.batch, recorded.transfer
        root = batch.root() if transfer else b""
        rebuilt = self._rebuild([i.earlier for i in items if i.earlier is not None])
        receipts: list[bytes] = []
        for item in items:
            if item.earlier is not None:
                receipts.append(rebuilt[item.earlier.message_id])
                continue
            appended = transfer[item.position]
            receipts.append(
                build_receipt(
                    self.instance.signing_key,
                    message_id=item.message_id,
                    outcome="accepted" if item.accepted else "refused",
                    reasons=item.reasons,
                    case_ref=item.case_ref,
                    entry=appended.entry,
                    index=appended.seq,
                    tree_size=batch.size,
                    root=root,
                    proof=batch.inclusion_proof(appended.seq),
                )
            )
        return receipts

    def _rebuild(self, earlier: Sequence[StoredReceipt]) -> dict[str, bytes]:
        """The receipts of earlier submissions, by message id: stored bytes as they are, the
        others signed again from their register entry, index, tree size and decision. The
        register is append-only, so the same references give the same receipt."""
        out: dict[str, bytes] = {}
        by_size: dict[int, list[StoredReceipt]] = {}
        for row in earlier:
            if row.receipt:
                out[row.message_id] = row.receipt
            elif row.entry_seq is None or row.tree_size is None:
                raise RegisterError(f"The receipt of message {row.message_id} has no entry.")
            else:
                by_size.setdefault(row.tree_size, []).append(row)
        for size, rows in by_size.items():
            root = self.register.root(self.conn, size)
            seqs = [r.entry_seq for r in rows if r.entry_seq is not None]
            proofs = self.register.inclusion_proofs(self.conn, seqs, size)
            for row, seq, proof in zip(rows, seqs, proofs, strict=True):
                found = register_store.entry(self.conn, seq)
                if found is None or not _records(found[1], row):
                    raise RegisterError(
                        f"Register entry {seq} does not record message {row.message_id}."
                    )
                out[row.message_id] = build_receipt(
                    self.instance.signing_key,
                    message_id=row.message_id,
                    outcome=row.outcome,
                    reasons=_reasons_from_json(row.reasons),
                    case_ref=row.case_ref,
                    entry=found[1],
                    index=seq,
                    tree_size=size,
                    root=root,
                    proof=proof,
                )
        return out


@dataclass(frozen=True)
class _Recorded:
    """What a batch's transaction appended: the batch and each fresh item's transfer entry."""

    batch: AppendedBatch
    transfer: dict[int, Appended]


def _records(entry: bytes, row: StoredReceipt) -> bool:
    """Whether a register entry is the transfer decision a receipt reference says it is (an
    insider editing a reference must not get the gateway to sign another message's entry)."""
    try:
        document = json.loads(entry)
    except ValueError:  # not an entry at all: it does not record this message
        return False
    return (
        isinstance(document, dict)
        and document.get("messageId") == row.message_id
        and document.get("envelopeHash") == row.envelope_hash.hex()
        and document.get("type") == f"transfer.{row.outcome}"
    )


def _reasons_json(reasons: Sequence[ReceiptReason]) -> str:
    if not reasons:  # an accepted envelope's
        return "[]"
    return json.dumps([r.as_json() for r in reasons], ensure_ascii=False, separators=(",", ":"))


def _reasons_from_json(text: str | None) -> list[ReceiptReason]:
    return [
        ReceiptReason(r["code"], r["subject"], r["messageNl"], r["messageEn"])
        for r in json.loads(text or "[]")
    ]


# -- reading and delivery ---------------------------------------------------------------------

INBOX_STATES = ("pending", "delivered", "acknowledged", "expired")
DEFAULT_INBOX_STATES = ("pending", "delivered")
MISMATCH_REASONS = (
    "signature-invalid",
    "binding-mismatch",
    "manifest-mismatch",
    "decryption-failed",
    "field-invalid",
    "other",
)


def encode_cursor(priority: int, received_seq: int) -> str:
    """The cursor after an inbox line with this priority (0 or 1) and sequence number."""
    raw = f"{int(priority)}.{received_seq}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        priority, seq = raw.split(".")
        parsed = (int(priority), int(seq))
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InvalidRequest(
            "The cursor is not one this gateway gave out: start again without it.",
            invalidParams=[
                {"name": "cursor", "code": "invalid", "reason": "not a cursor from a previous page"}
            ],
        ) from None
    if parsed[0] not in (0, 1) or parsed[1] < 0:
        raise InvalidRequest("The cursor is not one this gateway gave out: start again without it.")
    return parsed


@dataclass(frozen=True)
class InboxPage:
    items: tuple[store.InboxLine, ...]
    next_cursor: str | None


class Deliveries:
    """What a recipient does with its envelopes. A partner never learns whether an envelope it
    is not a recipient of exists: every such request is answered as not found."""

    def __init__(self, conn: Connection, instance: Instance, policy: Policy) -> None:
        self.conn = conn
        self.register = instance.register
        self.policy = policy

    def inbox(
        self,
        partner: str,
        *,
        flow: str | None,
        states: Sequence[str] | None,
        cursor: str | None,
        limit: int,
    ) -> InboxPage:
        after = decode_cursor(cursor) if cursor else None
        rows = store.inbox(
            self.conn,
            partner,
            states=tuple(states) if states else DEFAULT_INBOX_STATES,
            flow=flow,
            after=after,
            limit=limit + 1,
        )
        more = len(rows) > limit
        page = tuple(rows[:limit])
        if not more or not page:
            return InboxPage(page, None)
        return InboxPage(page, encode_cursor(page[-1].priority, page[-1].received_seq))

    def _delivery(self, partner: str, message_id: str) -> store.Delivery:
        found = store.get_delivery(self.conn, partner, message_id)
        if found is None:
            raise NotFound(f"No envelope {message_id} is addressed to you.")
        return found

    def fetch(self, partner: str, message_id: str, *, now: datetime) -> bytes:
        """The sealed envelope, for a listed recipient; the first fetch is recorded."""
        with transaction(self.conn):
            delivery = self._delivery(partner, message_id)
            envelope = store.get_envelope(self.conn, message_id)
            if envelope is None or delivery.state in ("expired", "purged"):
                raise Gone(f"Envelope {message_id} has expired or was purged.")
            if delivery.state == "pending":
                store.mark_delivery(
                    self.conn, partner, message_id, state="delivered", at=iso_time(now)
                )
                self.register.append(
                    self.conn,
                    [self._event("envelope.delivered", partner, delivery)],
                    now=now,
                )
        return envelope

    def acknowledge(self, partner: str, message_id: str, *, now: datetime) -> store.Delivery:
        """Confirm delivery; idempotent. The intake's acknowledgement moves a signalled case."""
        with transaction(self.conn):
            delivery = self._delivery(partner, message_id)
            if delivery.state == "acknowledged":
                return delivery
            if delivery.state in ("expired", "purged"):
                raise Gone(f"Envelope {message_id} has expired or was purged.")
            stamp = iso_time(now)
            if delivery.state == "pending":
                store.mark_delivery(self.conn, partner, message_id, state="delivered", at=stamp)
            store.mark_delivery(self.conn, partner, message_id, state="acknowledged", at=stamp)
            events = [self._event("envelope.acknowledged", partner, delivery)]
            events.extend(self._intake_event(partner, delivery, now))
            self.register.append(self.conn, events, now=now)
            updated = store.get_delivery(self.conn, partner, message_id)
        assert updated is not None  # noqa: S101 - read back in the same transaction
        return updated

    def _intake_event(self, partner: str, delivery: store.Delivery, now: datetime) -> list[Event]:
        party = self.policy.parties.get(partner)
        if party is None or INTAKE_ROLE not in party.roles:
            return []
        case = store.get_case(self.conn, delivery.case_ref)
        if case is None or case.closed_at is not None:
            return []
        for rule in self.policy.workflow.events:
            if rule.event == ACK_EVENT and case.state in rule.from_states:
                stamp = iso_time(now)
                state = self.policy.workflow.states.get(rule.to)
                due = (
                    None
                    if state is None
                    else state_deadline(state, now.date(), priority=case.priority)
                )
                store.update_case(
                    self.conn,
                    case.case_ref,
                    state=rule.to,
                    priority=case.priority,
                    state_since=stamp,
                    deadline=None if due is None else due.isoformat(),
                    closed_at=None,
                )
                return [
                    Event(
                        "case.moved",
                        Actor("partner", partner),
                        flow=delivery.flow,
                        case=case.case_ref,
                        subjects=(case.subject_ref,),
                        attributes={"fromState": case.state, "toState": rule.to},
                    )
                ]
        return []

    def report_mismatch(self, partner: str, message_id: str, reason: str, *, now: datetime) -> bool:
        """Record that an opened envelope did not match its header; flagged to the FG.
        Returns False when this recipient had already reported it."""
        if reason not in MISMATCH_REASONS:
            raise InvalidRequest(
                f"'{reason}' is not a mismatch reason ({', '.join(MISMATCH_REASONS)}).",
                invalidParams=[
                    {"name": "reason", "code": "invalid", "reason": "not a known mismatch reason"}
                ],
            )
        with transaction(self.conn):
            delivery = self._delivery(partner, message_id)
            fresh = store.insert_mismatch(self.conn, message_id, partner, reason, iso_time(now))
            if fresh:
                event = self._event("envelope.mismatch-reported", partner, delivery)
                self.register.append(
                    self.conn, [replace(event, outcome="error", reason=reason)], now=now
                )
        return fresh

    def case(self, partner: str, case_ref: str) -> CaseRecord:
        found = store.get_case(self.conn, case_ref)
        if found is None or partner not in found.parties:
            raise NotFound(f"No case {case_ref} that you are a party to.")
        return found

    @staticmethod
    def _event(kind: str, partner: str, delivery: store.Delivery) -> Event:
        return Event(
            kind,
            Actor("partner", partner),
            flow=delivery.flow,
            sender=delivery.sender,
            case=delivery.case_ref,
            message_id=delivery.message_id,
        )
