"""The covenant policy: files in ``policies/``, a typed model, and pure decisions.

No Flask, no database. ``load_policy(dir)`` validates the files (every error with file and
line); ``evaluate(policy, transfer, now)`` decides a transfer from its clear header;
``validate_fields`` checks field values for partners' clients.
"""

from gateway.policy.bundle import canonical_bytes, to_document, version_id
from gateway.policy.engine import Decision, Reason, Recipient, Transfer, evaluate
from gateway.policy.errors import PolicyInvalid, PolicyProblem
from gateway.policy.loader import load_policy
from gateway.policy.model import Flow, Policy
from gateway.policy.values import FieldProblem, validate_fields

__all__ = [
    "Decision",
    "FieldProblem",
    "Flow",
    "Policy",
    "PolicyInvalid",
    "PolicyProblem",
    "Reason",
    "Recipient",
    "Transfer",
    "canonical_bytes",
    "evaluate",
    "load_policy",
    "to_document",
    "validate_fields",
    "version_id",
]
