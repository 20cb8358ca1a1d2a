"""The scheduled jobs. Each is idempotent, works in bounded chunks (one transaction per chunk),
records what it did in the register in the same transaction as the change, and is resumable:
a job stopped half-way leaves whole chunks done and the rest for its next run, because every
candidate query excludes the rows already handled.

All day boundaries (delivery day, deadlines, "today") are Dutch local time (Europe/Amsterdam).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from gateway.instance import Instance
from gateway.policy import Policy
from gateway.policy.deadlines import working_days_between
from gateway.policy.model import NO_STATE, Flow
from gateway.register.entry import GATEWAY, Event, iso_time
from gateway.services import register_admin
from gateway.store import Connection, transaction
from gateway.store import exchange as exchange_store
from gateway.store import key_directory as directory
from gateway.store import notices as notice_store
from gateway.store import scheduler as store
from gateway.store.notices import NewNotice

ZONE = ZoneInfo("Europe/Amsterdam")
CHUNK = 500
INTAKE_ROLE = "municipality-intake"

# Notice kinds (docs/DEPLOY.md, Scheduler, lists them).
CASE_OVERDUE = "case-overdue"
ENVELOPE_EXPIRED = "envelope-expired"
DELIVERY_MISSING = "monthly-delivery-missing"
KEY_EXPIRING = "key-expiring"
GATEWAY_KEY_EXPIRING = "gateway-key-expiring"
NOTICE_KINDS = (
    CASE_OVERDUE,
    ENVELOPE_EXPIRED,
    DELIVERY_MISSING,
    KEY_EXPIRING,
    GATEWAY_KEY_EXPIRING,
)


@dataclass(frozen=True)
class JobContext:
    """What a job run needs: a connection, the instance, the policy, the time, the chunk size."""

    conn: Connection
    instance: Instance
    policy: Policy
    now: datetime
    chunk: int = CHUNK

    @property
    def today(self) -> date:
        return self.now.astimezone(ZONE).date()


@dataclass
class JobReport:
    """What one run did: named counts, printed by `gateway jobs run` and logged."""

    job: str
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, amount: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + amount

    def summary(self) -> str:
        parts = [f"{name} {count}" for name, count in self.counts.items()]
        text = f"{self.job}: " + (", ".join(parts) if parts else "nothing to do")
        return text + "".join(f"; {note}" for note in self.notes)


# -- helpers ----------------------------------------------------------------------------------


def months_before(moment: datetime, months: int) -> datetime:
    """The same local day and time ``months`` calendar months earlier (day clamped to 28+)."""
    local = moment.astimezone(ZONE)
    index = local.year * 12 + local.month - 1 - months
    year, month = index // 12, index % 12 + 1
    day = local.day
    while True:
        try:
            return local.replace(year=year, month=month, day=day)
        except ValueError:  # 31 March minus one month: fall back to the month's last day
            day -= 1


def _chunks(ctx: JobContext, step: Callable[[], int]) -> int:
    """Run ``step`` (one chunk inside one transaction) until it handles nothing; the total."""
    total = 0
    while True:
        with transaction(ctx.conn):
            done = step()
        if done == 0:
            return total
        total += done


def _notice(ctx: JobContext, notice: NewNotice, events: list[Event]) -> bool:
    """Store a notice once; a new one is recorded as ``notice.raised`` (or ``key.expiring``)."""
    if not notice_store.insert_notice(ctx.conn, notice, at=iso_time(ctx.now)):
        return False
    attributes: dict[str, str | int] = {"notice": notice.kind}
    if notice.partner is not None:
        attributes["partner"] = notice.partner
    if notice.state is not None:
        attributes["state"] = notice.state
    if notice.days_overdue is not None:
        attributes["daysOverdue"] = max(notice.days_overdue, 0)
    if notice.due_date is not None:
        attributes["dueDate"] = notice.due_date
    key_notice = notice.kind in (KEY_EXPIRING, GATEWAY_KEY_EXPIRING)
    if key_notice and notice.reference is not None:
        attributes["keyId"] = notice.reference
    events.append(
        Event(
            "key.expiring" if key_notice else "notice.raised",
            GATEWAY,
            case=notice.case_ref,
            message_id=notice.reference if notice.kind == ENVELOPE_EXPIRED else None,
            attributes=attributes,
        )
    )
    return True


# -- retention --------------------------------------------------------------------------------


def opening_flows(policy: Policy) -> tuple[Flow, ...]:
    return tuple(f for f in policy.flows.values() if f.opens_case)


def closure_retention_months(policy: Policy) -> int:
    """Months a closed case is kept: the largest ``after_closure_months`` of the rules of the
    flows that open cases (Weert: 18), else the largest ``months`` of any rule."""
    found = [
        r.retention.after_closure_months
        for f in opening_flows(policy)
        for r in f.recipients
        if r.retention.after_closure_months is not None
    ]
    if found:
        return max(found)
    return max(r.retention.months for f in policy.flows.values() for r in f.recipients)


def no_help_terms(policy: Policy) -> dict[str, int]:
    """The states in which no help was accepted, with the months their case is kept idle.

    From the policy: a case still in the state a signal opens it in (Weert: ``signalled``) was
    not followed up and is kept the signal rule's ``months`` (Weert: 6); a case in a state that
    only a workflow event leads to from there (Weert: ``triage``, after the intake acknowledged
    the signal) was picked up without help being accepted, and is kept ``picked_up_months``
    (Weert: 12). A case referred on (to the directors, AMW, an expert) is kept until it is
    closed and then ``after_closure_months``.
    """
    rules = [r for f in opening_flows(policy) for r in f.recipients]
    if not rules:
        return {}
    months = max(r.retention.months for r in rules)
    picked = max((r.retention.picked_up_months or r.retention.months) for r in rules)
    opened = {
        t.to
        for t in policy.workflow.transitions
        if NO_STATE in t.from_states and t.flow in {f.id for f in opening_flows(policy)}
    }
    terms = {state: months for state in opened}
    for event in policy.workflow.events:
        if event.from_states & opened and event.to not in terms:
            terms[event.to] = picked
    return terms


def run_retention(ctx: JobContext) -> JobReport:
    """Expire unacknowledged deliveries (telling the sender), purge sealed blobs after the
    acknowledgement grace period, delete closed and idle cases, destroy old epoch keys."""
    report = JobReport("retention")
    schedule = ctx.policy.covenant.schedule
    register = ctx.instance.register
    stamp = iso_time(ctx.now)

    expiry_cutoff = iso_time(ctx.now - timedelta(days=schedule.undelivered_envelope_expiry_days))

    def expire_chunk() -> int:
        rows = store.unacknowledged_before(ctx.conn, expiry_cutoff, ctx.chunk)
        events: list[Event] = []
        for row in rows:
            if not store.expire_delivery(ctx.conn, row.recipient, row.message_id):
                continue  # pragma: no cover - selected in this very transaction
            events.append(
                Event(
                    "envelope.expired",
                    GATEWAY,
                    flow=row.flow,
                    sender=row.sender,
                    case=row.case_ref,
                    message_id=row.message_id,
                    attributes={"partner": row.recipient},
                )
            )
            report.add("deliveries expired")
            case = exchange_store.get_case(ctx.conn, row.case_ref)
            expired_on = datetime.fromisoformat(row.received_at).astimezone(ZONE).date() + (
                timedelta(days=schedule.undelivered_envelope_expiry_days)
            )
            _notice(
                ctx,
                NewNotice(
                    partner=row.sender,
                    kind=ENVELOPE_EXPIRED,
                    fact=f"{row.message_id}:{row.recipient}",
                    case_ref=row.case_ref,
                    state=None if case is None else case.state,
                    days_overdue=(ctx.today - expired_on).days,
                    due_date=expired_on.isoformat(),
                    reference=row.message_id,
                ),
                events,
            )
        if events:
            register.append(ctx.conn, events, now=ctx.now)
        return len(rows)

    _chunks(ctx, expire_chunk)

    purge_cutoff = iso_time(ctx.now - timedelta(days=schedule.acknowledged_envelope_grace_days))

    def purge_chunk() -> int:
        rows = store.purgeable_envelopes(ctx.conn, purge_cutoff, ctx.chunk)
        events = []
        for row in rows:
            if store.purge_envelope(ctx.conn, row.message_id, stamp):
                events.append(
                    Event(
                        "envelope.purged",
                        GATEWAY,
                        flow=row.flow,
                        sender=row.sender,
                        case=row.case_ref,
                        message_id=row.message_id,
                    )
                )
                report.add("envelopes purged")
        if events:
            register.append(ctx.conn, events, now=ctx.now)
        return len(rows)

    _chunks(ctx, purge_chunk)

    def case_chunk(select: Callable[[], list[store.PurgeableCase]], reason: str) -> int:
        rows = select()
        events = []
        for row in rows:
            envelopes = store.delete_case(ctx.conn, row.case_ref)
            events.append(
                Event(
                    "case.purged",
                    GATEWAY,
                    reason=reason,
                    case=row.case_ref,
                    subjects=(row.subject_ref,) if row.subject_ref else (),
                    attributes={"state": row.state, "count": envelopes},
                )
            )
            report.add(f"cases purged ({reason})")
        if events:
            register.append(ctx.conn, events, now=ctx.now)
        return len(rows)

    closed_cutoff = iso_time(months_before(ctx.now, closure_retention_months(ctx.policy)))
    _chunks(
        ctx,
        lambda: case_chunk(
            lambda: store.closed_cases_before(ctx.conn, closed_cutoff, ctx.chunk),
            "retention-after-closure",
        ),
    )
    for state, months in sorted(no_help_terms(ctx.policy).items()):
        cutoff = iso_time(months_before(ctx.now, months))
        _chunks(
            ctx,
            lambda state=state, cutoff=cutoff: case_chunk(  # type: ignore[misc]
                lambda: store.idle_open_cases(ctx.conn, state, cutoff, ctx.chunk),
                "no-help-accepted",
            ),
        )

    retired = register_admin.retire_epochs(
        ctx.conn, register, ctx.policy, now=ctx.now, actor=GATEWAY
    )
    if retired:
        report.add("epoch keys destroyed", len(retired))
    return report


# -- deadlines --------------------------------------------------------------------------------


def responsible_parties(policy: Policy, state: str, parties: Iterable[str]) -> list[str]:
    """The case's parties expected to act in ``state``: those with a recipient role of a flow
    that moves a case into it; for a state entered by a workflow event (or when no such party
    is on the case), the municipality's intake (the controller's coordinator)."""
    roles: set[str] = set()
    for transition in policy.workflow.transitions:
        if transition.to == state:
            flow = policy.flows.get(transition.flow)
            if flow is not None:
                roles.update(r.role for r in flow.recipients)
    on_case = [p for p in parties if p in policy.parties]
    found = [p for p in on_case if policy.parties[p].roles & roles]
    if not found:
        found = [p for p in on_case if INTAKE_ROLE in policy.parties[p].roles]
    return found


def run_deadlines(ctx: JobContext) -> JobReport:
    """Warn the responsible partner(s) and the console about open cases past their state's
    deadline (working days, Dutch public holidays; the deadline is shorter for priority cases).
    Days overdue count working days after the deadline; one notice per case, state and
    deadline."""
    report = JobReport("deadlines")
    today = ctx.today
    last = ""

    def chunk() -> int:
        nonlocal last
        rows = store.overdue_cases(ctx.conn, today.isoformat(), last, ctx.chunk)
        events: list[Event] = []
        for case in rows:
            last = case.case_ref
            overdue = working_days_between(date.fromisoformat(case.deadline), today)
            if overdue < 1:
                continue  # past the date, but no working day has passed since
            report.add("cases overdue")
            targets: list[str | None] = list(
                responsible_parties(ctx.policy, case.state, case.parties)
            ) or [None]
            for partner in targets:
                raised = _notice(
                    ctx,
                    NewNotice(
                        partner=partner,
                        kind=CASE_OVERDUE,
                        fact=f"{case.case_ref}:{case.state}:{case.deadline}",
                        case_ref=case.case_ref,
                        state=case.state,
                        days_overdue=overdue,
                        due_date=case.deadline,
                    ),
                    events,
                )
                if raised:
                    report.add("notices raised")
        if events:
            ctx.instance.register.append(ctx.conn, events, now=ctx.now)
        return len(rows)

    _chunks(ctx, chunk)
    return report


# -- monthly deliveries -----------------------------------------------------------------------


def run_monthly_deliveries(ctx: JobContext) -> JobReport:
    """After the covenant's ``monthly_delivery_day``, warn each landlord (and the console) that
    delivered no signal batch this calendar month. One notice per landlord and month."""
    report = JobReport("monthly-deliveries")
    covenant = ctx.policy.covenant
    today = ctx.today
    day = covenant.schedule.monthly_delivery_day
    if today.day <= day:
        report.notes.append(f"the delivery day ({day}) of this month has not passed")
        return report
    if today < covenant.effective_from or (
        covenant.effective_until is not None and today > covenant.effective_until
    ):
        report.notes.append("the covenant is not in force")
        return report
    flows = opening_flows(ctx.policy)
    flow_ids = sorted(f.id for f in flows)
    sender_roles = {role for f in flows for role in f.sender_roles}
    senders = sorted(p.id for p in ctx.policy.parties.values() if p.roles & sender_roles)
    month_start = datetime(today.year, today.month, 1, tzinfo=ZONE)
    due = date(today.year, today.month, day)
    period = f"{today.year:04d}-{today.month:02d}"
    for sender in senders:
        with transaction(ctx.conn):
            if store.delivered_since(ctx.conn, sender, flow_ids, iso_time(month_start)):
                report.add("landlords delivered")
                continue
            report.add("landlords missing")
            events: list[Event] = []
            if _notice(
                ctx,
                NewNotice(
                    partner=sender,
                    kind=DELIVERY_MISSING,
                    fact=period,
                    days_overdue=(today - due).days,
                    due_date=due.isoformat(),
                    reference=period,
                ),
                events,
            ):
                report.add("notices raised")
                ctx.instance.register.append(ctx.conn, events, now=ctx.now)
    return report


# -- checkpoints ------------------------------------------------------------------------------


def run_checkpoints(ctx: JobContext) -> JobReport:
    """Sign a register checkpoint when the log grew since the last one."""
    report = JobReport("checkpoints")
    signed = register_admin.sign_checkpoint(ctx.conn, ctx.instance.register, now=ctx.now)
    if signed is None:
        report.notes.append("the register has not grown since the last checkpoint")
    else:
        report.add("checkpoint signed at size", signed.size)
    return report


# -- keys -------------------------------------------------------------------------------------


def gateway_key_not_after(instance: Instance) -> datetime | None:
    """The end of the gateway signing key's validity. It has none today (it is replaced by an
    operator, not expired), so nothing is warned; the check below is ready for when it has."""
    del instance
    return None


def run_keys(ctx: JobContext) -> JobReport:
    """Warn partners (and the console) whose active key ends within
    SLUIS_KEY_EXPIRY_WARNING_DAYS; warn the console before the gateway key expires."""
    report = JobReport("keys")
    horizon = ctx.now + timedelta(days=ctx.instance.settings.key_expiry_warning_days)
    events: list[Event] = []
    with transaction(ctx.conn):
        for key in directory.all_active_keys(ctx.conn):
            if key.not_after is None:
                continue
            ends = datetime.fromisoformat(key.not_after)
            if ends > horizon:
                continue
            report.add("keys expiring")
            ends_on = ends.astimezone(ZONE).date()
            if _notice(
                ctx,
                NewNotice(
                    partner=key.partner_id,
                    kind=KEY_EXPIRING,
                    fact=f"{key.key_id}:{key.not_after}",
                    days_overdue=(ctx.today - ends_on).days,
                    due_date=ends_on.isoformat(),
                    reference=key.key_id,
                ),
                events,
            ):
                report.add("notices raised")
        gateway_ends = gateway_key_not_after(ctx.instance)
        if gateway_ends is not None and gateway_ends <= horizon:
            ends_on = gateway_ends.astimezone(ZONE).date()
            if _notice(
                ctx,
                NewNotice(
                    partner=None,
                    kind=GATEWAY_KEY_EXPIRING,
                    fact=f"gateway:{iso_time(gateway_ends)}",
                    days_overdue=(ctx.today - ends_on).days,
                    due_date=ends_on.isoformat(),
                ),
                events,
            ):
                report.add("notices raised")
        if events:
            ctx.instance.register.append(ctx.conn, events, now=ctx.now)
    return report
