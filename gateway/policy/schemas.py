"""marshmallow schemas for the policy files. Unknown keys are errors everywhere."""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from gateway.policy.model import CATEGORIES, FIELD_TYPES, ROLES

SLUG = validate.Regexp(r"^[a-z][a-z0-9-]{0,62}\Z", error="must be a lowercase slug (a-z, 0-9, -)")
FIELD_ID = validate.Regexp(
    r"^[a-z][a-z0-9_]{0,62}\Z", error="must be a lowercase name (a-z, 0-9, _)"
)
TEXT = validate.Length(min=1, max=2000)
SHORT = validate.Length(min=1, max=300)


def text(**kw: Any) -> fields.String:
    return fields.String(required=True, validate=TEXT, **kw)


class DateField(fields.Field):  # type: ignore[type-arg]
    """A date written as jjjj-mm-dd (YAML gives a date; a quoted string is parsed)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> date:
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise ValidationError("must be a date written as jjjj-mm-dd")


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class ControllerSchema(StrictSchema):
    name = text()
    address = text()


class PrivacyOfficerSchema(StrictSchema):
    name = text()
    email = fields.Email(required=True)
    phone = fields.String(required=True, validate=SHORT)


class DataSubjectCategorySchema(StrictSchema):
    id = fields.String(required=True, validate=SLUG)
    label_nl = text()
    label_en = text()


class ScheduleSchema(StrictSchema):
    monthly_delivery_day = fields.Integer(required=True, validate=validate.Range(1, 28))
    acknowledged_envelope_grace_days = fields.Integer(
        required=True, validate=validate.Range(0, 365)
    )
    undelivered_envelope_expiry_days = fields.Integer(
        required=True, validate=validate.Range(1, 365)
    )
    repeat_signal_lookback_months = fields.Integer(required=True, validate=validate.Range(1, 60))


class PartySchema(StrictSchema):
    id = fields.String(required=True, validate=SLUG)
    name = text()
    organisation = text()
    roles = fields.List(
        fields.String(validate=validate.OneOf(ROLES)), required=True, validate=validate.Length(1)
    )


class CovenantSchema(StrictSchema):
    id = fields.String(required=True, validate=SLUG)
    name_nl = text()
    name_en = text()
    effective_from = DateField(required=True)
    effective_until = DateField(load_default=None)
    controller = fields.Nested(ControllerSchema, required=True)
    privacy_officer = fields.Nested(PrivacyOfficerSchema, required=True)
    ap_notification_reference = fields.String(required=True, validate=SHORT)
    data_subject_categories = fields.List(
        fields.Nested(DataSubjectCategorySchema), required=True, validate=validate.Length(1)
    )
    security_measures_nl = fields.List(text(), required=True, validate=validate.Length(1))
    security_measures_en = fields.List(text(), required=True, validate=validate.Length(1))
    parameters = fields.Dict(
        keys=fields.String(validate=FIELD_ID),
        values=fields.Raw(),
        load_default=dict,
    )
    schedule = fields.Nested(ScheduleSchema, required=True)
    register_retention_months = fields.Dict(
        keys=fields.String(validate=validate.OneOf(("processing", "administration"))),
        values=fields.Integer(validate=validate.Range(1, 1200)),
        required=True,
    )
    parties = fields.List(fields.Nested(PartySchema), required=True, validate=validate.Length(1))


class FieldDefSchema(StrictSchema):
    type = fields.String(required=True, validate=validate.OneOf(FIELD_TYPES))
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    personal = fields.Boolean(required=True)
    label_nl = text()
    label_en = text()
    description_nl = text()
    description_en = text()
    max_length = fields.Integer(validate=validate.Range(1, 10_000))
    pattern = fields.String(validate=validate.Length(1, 500))
    minimum = fields.Float()
    maximum = fields.Float()
    values = fields.List(fields.String(validate=SLUG), validate=validate.Length(1, 100))

    @validates_schema
    def _enum_has_values(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("type") == "enum" and not data.get("values"):
            raise ValidationError("an enum field needs a list of values", "values")
        if data.get("type") != "enum" and "values" in data:
            raise ValidationError("only enum fields have values", "values")


class FieldsFileSchema(StrictSchema):
    # Named field_definitions in Python: ``fields`` would shadow marshmallow's Schema.fields.
    field_definitions = fields.Dict(
        data_key="fields",
        keys=fields.String(validate=FIELD_ID),
        values=fields.Nested(FieldDefSchema),
        required=True,
        validate=validate.Length(1),
    )


class LegalBasisSchema(StrictSchema):
    article = fields.String(required=True, validate=SHORT)
    law = fields.String(required=True, validate=SHORT)


class RetentionSchema(StrictSchema):
    months = fields.Integer(required=True, validate=validate.Range(1, 1200))
    picked_up_months = fields.Integer(validate=validate.Range(1, 1200))
    after_closure_months = fields.Integer(validate=validate.Range(1, 1200))
    rule_nl = text()
    rule_en = text()


class RecipientSchema(StrictSchema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    mandatory = fields.Boolean(load_default=True)
    purpose_nl = text()
    purpose_en = text()
    legal_basis = fields.Nested(LegalBasisSchema, required=True)
    retention = fields.Nested(RetentionSchema, required=True)
    allowed = fields.List(
        fields.String(validate=FIELD_ID), required=True, validate=validate.Length(1, 500)
    )
    required_fields = fields.List(
        fields.String(validate=FIELD_ID), data_key="required", load_default=list
    )


class ConditionSchema(StrictSchema):
    field = fields.String(required=True, validate=FIELD_ID)
    operator = fields.String(
        required=True, validate=validate.OneOf(("==", "!=", ">=", "<=", ">", "<"))
    )
    value = fields.Raw(allow_none=True)
    parameter = fields.String(validate=FIELD_ID)

    @validates_schema
    def _value_or_parameter(self, data: dict[str, Any], **_: Any) -> None:
        if ("value" in data) == ("parameter" in data):
            raise ValidationError("a condition has either a value or a parameter, not both")


class RoutingAttributeSchema(StrictSchema):
    type = fields.String(required=True, validate=validate.OneOf(("boolean", "string", "integer")))
    required = fields.Boolean(load_default=False)
    label_nl = text()
    label_en = text()


class FlowSchema(StrictSchema):
    id = fields.String(required=True, validate=SLUG)
    label_nl = text()
    label_en = text()
    sender_roles = fields.List(
        fields.String(validate=validate.OneOf(ROLES)), required=True, validate=validate.Length(1)
    )
    opens_case = fields.Boolean(load_default=False)
    consent_field = fields.String(validate=FIELD_ID)
    conditions = fields.List(fields.Nested(ConditionSchema), load_default=list)
    routing = fields.Dict(
        keys=fields.String(validate=FIELD_ID),
        values=fields.Nested(RoutingAttributeSchema),
        load_default=dict,
    )
    recipients = fields.List(
        fields.Nested(RecipientSchema), required=True, validate=validate.Length(1, 20)
    )


class DeadlineSchema(StrictSchema):
    normal = fields.Integer(required=True, validate=validate.Range(1, 365))
    priority = fields.Integer(required=True, validate=validate.Range(1, 365))


class StateSchema(StrictSchema):
    id = fields.String(required=True, validate=SLUG)
    label_nl = text()
    label_en = text()
    deadline_working_days = fields.Nested(DeadlineSchema)


class TransitionSchema(StrictSchema):
    flow = fields.String(required=True, validate=SLUG)
    from_ = fields.List(
        fields.String(validate=SLUG), data_key="from", required=True, validate=validate.Length(1)
    )
    to = fields.String(required=True, validate=SLUG)


class EventTransitionSchema(StrictSchema):
    event = fields.String(required=True, validate=SLUG)
    from_ = fields.List(
        fields.String(validate=SLUG), data_key="from", required=True, validate=validate.Length(1)
    )
    to = fields.String(required=True, validate=SLUG)


class WorkflowSchema(StrictSchema):
    states = fields.List(fields.Nested(StateSchema), required=True, validate=validate.Length(1))
    events = fields.List(fields.Nested(EventTransitionSchema), load_default=list)
    transitions = fields.List(
        fields.Nested(TransitionSchema), required=True, validate=validate.Length(1)
    )
