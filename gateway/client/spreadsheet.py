"""The landlord's monthly arrears list, read and checked row by row before anything is sent.

Pure: no network, no crypto beyond the keyed hash of the subject reference. ::

    with read_signal_list(path, policy, now=now, landlord_id="wonen-limburg", secret=key) as sheet:
        for row in sheet:                 # one row at a time: memory does not grow with the file
            if row.status == VALID:
                ...                       # row.values, row.subject
    print(render_text(sheet.report))

Every row is checked with :func:`gateway.policy.values.validate_fields` for each recipient of
the flow, so the field schema and the flow's conditions are the policy's, never repeated here.
A failed condition on an ordering comparison (``months_in_arrears >= 2``: the threshold) makes
the row *below threshold*: skipped and counted, its other problems not listed (nothing of it is
sent). Any other problem, including a failed attestation (``tenant_objected == false``), makes
the row *invalid*, with every problem listed. File-level problems raise
:class:`~gateway.client.input_errors.SpreadsheetError` subclasses.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import IO

from gateway.client.columns import (
    ColumnPlan,
    MappingFile,
    column_letter,
    default_mapping,
    plan_columns,
    sender_fields,
)
from gateway.client.dutch_values import display, to_field_value
from gateway.client.input_errors import MissingColumns, SpreadsheetError
from gateway.client.input_report import (
    DEFAULT_MAX_PROBLEMS,
    InputReport,
    Notice,
    RowProblem,
    render_csv,
    render_text,
)
from gateway.client.sheet_readers import Limits, SheetInfo, SheetRow, open_sheet
from gateway.client.subject import subject_reference
from gateway.policy.model import Flow, Policy
from gateway.policy.values import FieldProblem, validate_fields

SIGNAL_FLOW = "arrears-signal"
VALID = "valid"
BELOW_THRESHOLD = "below-threshold"
INVALID = "invalid"
#: Filled in by the client when the tenant letters are made (gateway.client.letters), so a list
#: without these columns is complete; a column for them in the file is used when present.
CLIENT_SUPPLIED: frozenset[str] = frozenset({"tenant_informed_date", "tenant_informed_how"})
_ORDERING = frozenset({">=", "<=", ">", "<"})
_FRIENDLY_FORMAT: dict[str, tuple[str, str]] = {
    "postal-code": ("Geen geldige postcode (1234 AB).", "Not a valid postal code (1234 AB)."),
    "email": ("Geen geldig e-mailadres.", "Not a valid e-mail address."),
    "phone": ("Geen geldig telefoonnummer.", "Not a valid phone number."),
    "date": ("Geen geldige datum (dd-mm-jjjj).", "Not a valid date (dd-mm-yyyy)."),
}

__all__ = [
    "BELOW_THRESHOLD",
    "INVALID",
    "VALID",
    "CheckedRow",
    "InputReport",
    "Limits",
    "RowProblem",
    "SignalList",
    "SpreadsheetError",
    "read_signal_list",
    "render_csv",
    "render_text",
    "subject_reference",
]


@dataclass(frozen=True)
class CheckedRow:
    """One row with data, checked. ``values`` hold only non-empty fields, in envelope form."""

    row: int
    status: str  # VALID, BELOW_THRESHOLD or INVALID
    values: Mapping[str, object]
    problems: tuple[RowProblem, ...]
    subject: str | None  # the pseudonymous subject reference, for valid rows

    @property
    def missing_client_fields(self) -> frozenset[str]:
        """Client-supplied fields still to be added (the tenant letter's record)."""
        return CLIENT_SUPPLIED - set(self.values)


class SignalList:
    """An opened list: iterate for :class:`CheckedRow`; ``report`` fills as rows pass."""

    def __init__(
        self,
        info: SheetInfo,
        rows: Iterator[SheetRow],
        plan: ColumnPlan,
        checker: _RowChecker,
        report: InputReport,
        closer: Generator[object, None, None],
    ) -> None:
        self.info = info
        self.report = report
        self._rows = rows
        self._plan = plan
        self._checker = checker
        self._closer = closer

    def __iter__(self) -> Iterator[CheckedRow]:
        try:
            for sheet_row in self._rows:
                checked = self._checker.check(sheet_row, self._plan)
                if checked is None:
                    self.report.empty_rows += 1
                    continue
                self._count(checked)
                yield checked
            self.report.complete = True
        finally:
            self.close()

    def _count(self, checked: CheckedRow) -> None:
        self.report.rows += 1
        if checked.status == VALID:
            self.report.valid += 1
        elif checked.status == BELOW_THRESHOLD:
            self.report.below_threshold += 1
        else:
            self.report.invalid += 1
            self.report.add_problems(checked.problems)

    def check_all(self) -> InputReport:
        """Read every row (a dry run) and return the report."""
        for _ in self:
            pass
        return self.report

    def close(self) -> None:
        self._closer.close()  # the holding generator exits open_sheet: the file is closed

    def __enter__(self) -> SignalList:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def read_signal_list(
    source: Path | IO[bytes],
    policy: Policy,
    *,
    now: datetime,
    landlord_id: str,
    secret: bytes,
    flow_id: str = SIGNAL_FLOW,
    mapping: MappingFile | None = None,
    supplied: Mapping[str, object] | None = None,
    limits: Limits | None = None,
    max_problems: int = DEFAULT_MAX_PROBLEMS,
) -> SignalList:
    """Open ``source`` (CSV or XLSX), map its header and return the list to iterate.

    Raises a :class:`SpreadsheetError` subclass for the whole file: too large, unreadable,
    missing required columns, two columns for one field. ``supplied`` gives values for fields
    the file lacks (e.g. the tenant-informed record); a cell in the file wins over it.
    """
    flow = policy.flows[flow_id]
    defaults = default_mapping(policy, flow)
    column_names = mapping.apply(defaults) if mapping is not None else dict(defaults)
    opened = open_sheet(source, limits)
    holder = _hold(opened)
    info, rows = next(holder)
    try:
        plan = plan_columns(info.headers, column_names)
        report = InputReport(
            file_name=source.name if isinstance(source, Path) else "",
            kind=info.kind,
            encoding=info.encoding,
            delimiter=info.delimiter,
            max_problems=max_problems,
        )
        supplied_values = dict(supplied or {})
        _check_required_columns(policy, flow, plan, supplied_values)
        for index in plan.unknown:
            header = info.headers[index]
            report.warnings.append(
                Notice(
                    f'Kolom {column_letter(index)} "{header}" is onbekend en wordt genegeerd.',
                    f'Column {column_letter(index)} "{header}" is unknown and ignored.',
                )
            )
    except SpreadsheetError:  # a file-level refusal: close the file, then let it through
        holder.close()
        raise
    checker = _RowChecker(policy, flow, now, landlord_id, secret, supplied_values)
    return SignalList(info, rows, plan, checker, report, holder)


_Opened = tuple[SheetInfo, Iterator[SheetRow]]


def _hold(opened: AbstractContextManager[_Opened]) -> Generator[_Opened, None, None]:
    """Keep the open_sheet context alive until this generator is closed."""
    with opened as entered:
        yield entered


def _check_required_columns(
    policy: Policy, flow: Flow, plan: ColumnPlan, supplied: Mapping[str, object]
) -> None:
    present = set(plan.field_of.values()) | set(supplied) | CLIENT_SUPPLIED
    required = frozenset().union(*(rule.required_fields for rule in flow.recipients))
    missing = tuple(sorted(required - present))
    if missing:
        raise MissingColumns(missing, tuple(policy.fields[f].label_nl for f in missing))


class _RowChecker:
    """Turns one raw row into a :class:`CheckedRow` with the policy's own rules."""

    def __init__(
        self,
        policy: Policy,
        flow: Flow,
        now: datetime,
        landlord_id: str,
        secret: bytes,
        supplied: Mapping[str, object],
    ) -> None:
        self.policy = policy
        self.flow = flow
        self.now = now
        self.landlord_id = landlord_id
        self.secret = secret
        self.supplied = supplied
        self.allowed = sender_fields(flow)
        self.threshold_fields = frozenset(
            c.field for c in flow.conditions if c.operator in _ORDERING
        )
        subject_reference(secret, landlord_id, "CHECK")  # refuse a bad key before any row

    def check(self, sheet_row: SheetRow, plan: ColumnPlan) -> CheckedRow | None:
        cells = sheet_row.cells
        if all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells):
            return None
        values: dict[str, object] = dict(self.supplied)
        for index, field in plan.field_of.items():
            cell = cells[index] if index < len(cells) else None
            value = to_field_value(self.policy.fields[field], cell)
            if value is not None or field not in values:
                values[field] = value
        problems = self._problems(values)
        listed: tuple[RowProblem, ...] = ()
        if any(p.rule == "condition" and p.field in self.threshold_fields for p in problems):
            status = BELOW_THRESHOLD
        elif problems:
            located = (self._located(sheet_row, plan, p) for p in problems)
            status = INVALID
            listed = tuple(sorted(located, key=lambda p: (not p.column, len(p.column), p.column)))
        else:
            status = VALID
        kept = MappingProxyType({k: v for k, v in values.items() if v is not None})
        subject = None
        if status == VALID:
            subject = subject_reference(
                self.secret, self.landlord_id, str(kept["contract_reference"])
            )
        return CheckedRow(sheet_row.number, status, kept, listed, subject)

    def _problems(self, values: Mapping[str, object]) -> list[FieldProblem]:
        found: dict[tuple[str, str], FieldProblem] = {}
        for rule in self.flow.recipients:
            projected = {k: v for k, v in values.items() if k in rule.allowed}
            for problem in validate_fields(self.policy, self.flow, rule.role, projected, self.now):
                if (
                    problem.field in CLIENT_SUPPLIED
                    and problem.rule == "required"
                    and (values.get(problem.field) is None)
                ):
                    continue  # added from the tenant letter before sealing
                found.setdefault((problem.field, problem.rule), problem)
        broken = {field for field, rule in found if rule != "condition"}
        # a condition on a value that is itself unreadable says nothing new: the value is wrong
        return [p for p in found.values() if not (p.rule == "condition" and p.field in broken)]

    def _located(self, sheet_row: SheetRow, plan: ColumnPlan, problem: FieldProblem) -> RowProblem:
        index = plan.column_of(problem.field)
        cell = (
            sheet_row.cells[index] if index is not None and index < len(sheet_row.cells) else None
        )
        definition = self.policy.fields.get(problem.field)
        nl, en = problem.message_nl, problem.message_en
        if problem.rule == "format" and definition is not None:
            nl, en = _FRIENDLY_FORMAT.get(definition.type, (nl, en))
        if definition is not None:
            nl = f"{definition.label_nl}: {nl}"
            en = f"{definition.label_en}: {en}"
        return RowProblem(
            row=sheet_row.number,
            column=column_letter(index) if index is not None else "",
            header=plan.headers[index] if index is not None else "",
            field=problem.field,
            value=display(cell),
            rule=problem.rule,
            message_nl=nl,
            message_en=en,
        )
