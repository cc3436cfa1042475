"""The resident's request to the Data Protection Officer: fields, checks and error messages.

``validate_form(data)`` is the one entry point for the UI: it never changes ``data``, so
the caller can show the same values again next to the messages (GOV.UK "error summary"
pattern: every problem at once, one message per field, the resident's answers kept).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Any, Callable, Literal, get_args

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

RequestType = Literal[
    "subject_access", "rectification", "erasure", "restriction", "objection",
    "portability", "withdraw_consent", "complaint", "other_question",
]  # fmt: skip
OnBehalf = Literal["self", "parent_or_guardian", "representative"]

REQUEST_TYPES: dict[str, str] = {
    "subject_access": "Get a copy of my data (subject access)",
    "rectification": "Correct data that is wrong or incomplete",
    "erasure": "Delete my data (erasure)",
    "restriction": "Limit how my data is used (restriction)",
    "objection": "Object to how my data is used",
    "portability": "Get my data in a format I can move to another organisation (portability)",
    "withdraw_consent": "Withdraw consent I gave",
    "complaint": "Complain about how my data has been handled",
    "other_question": "Ask the Data Protection Officer a question",
}

# Describes the process only: the council's decision is the DPO's, never this form's.
REQUEST_TYPE_HINTS: dict[str, str] = {
    "subject_access": "We will send you a copy of the personal data we hold about you. "
    "We may ask you to prove who you are first.",
    "rectification": "We will check the information you say is wrong or incomplete and "
    "write to tell you what we have done.",
    "erasure": "We will look at whether we can delete your data. Some records must be kept "
    "by law; we will write to tell you what we decide and why.",
    "restriction": "We will look at whether we should limit how we use your data and write "
    "to tell you what we decide.",
    "objection": "We will look at your reasons for objecting and write to tell you what we decide.",
    "portability": "We will check whether this right applies to your data and, if it does, "
    "send it to you in a common digital format.",
    "withdraw_consent": "We will check which uses of your data rely on your consent and "
    "confirm when we have stopped them.",
    "complaint": "The Data Protection Officer will look into your complaint and reply. If you "
    "are not happy with the reply, you can complain to the Information Commissioner's Office.",
    "other_question": "The Data Protection Officer will reply to your question.",
}

ON_BEHALF: dict[str, str] = {
    "self": "Myself",
    "parent_or_guardian": "A child I am the parent or guardian of",
    "representative": "Someone else, as their representative",
}

# Care leavers can be supported by the council up to 25 (Children and Social Work Act
# 2017), so a parent, guardian or corporate parent may ask about a "child" up to that age.
# Whether they are entitled to the data is the DPO's judgement, not the form's.
MAX_CHILD_AGE = 25

# The "at least one way to contact you" message sits on the first of the three fields,
# where GOV.UK's error summary would link to.
CONTACT_FIELDS = ("email", "phone", "address")
CONTACT_ERROR_FIELD = "email"

CONSENT_MESSAGE = "You need to agree that the council may use these details to handle your request"

MESSAGES: dict[str, str] = {
    "request_type": "Select what your request is about",
    "on_behalf": "Select who the request is for",
    "email": "Enter an email address in the correct format, like name@example.com",
    "phone": "Enter a UK phone number in the correct format, like 01632 960 001 or 07700 900 982",
    "postcode": "Enter a postal address that includes the postcode, like WN1 1YN",
    "contact": "Enter at least one way for us to contact you: an email address, a UK phone "
    "number or a postal address",
    "dob_missing": "Enter the child's date of birth",
    "dob_invalid": "Child's date of birth must be a real date, like 27/3/2015",
    "dob_future": "Child's date of birth must be in the past",
    "dob_too_old": f"Child's date of birth must be in the last {MAX_CHILD_AGE + 1} years. If they "
    f"are {MAX_CHILD_AGE + 1} or older, choose ‘{ON_BEHALF['representative']}’",
    "consent": CONSENT_MESSAGE,
}

# (label used in messages, "Enter ..." message, min, max, multi-line allowed)
TEXT_FIELDS: dict[str, tuple[str, str, int, int, bool]] = {
    "name": ("Full name", "Enter your full name", 2, 200, False),
    "address": ("Postal address", MESSAGES["postcode"], 10, 500, True),
    "child_name": ("Child's full name", "Enter the child's full name", 2, 200, False),
    "representing_name": (
        "Full name of the person you are acting for",
        "Enter the full name of the person you are acting for", 2, 200, False,
    ),  # fmt: skip
    "description": ("Details of your request", "Enter details of your request", 10, 5000, True),
}

_POSTCODE = re.compile(r"\b(GIR ?0AA|[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2})\b", re.IGNORECASE)
_PHONE_DECORATION = re.compile(r"[\s\-().]")
_ALLOWED_MULTILINE = {"\n", "\r", "\t"}
_TRUE = {"true", "yes", "on", "1", "y"}


class FieldProblem(ValueError):
    """One resident-facing message for one field."""


def _text(field: str, value: Any) -> str | None:
    """Trimmed text, or None when empty; raises with the field's resident message."""
    label, missing, lo, hi, multiline = TEXT_FIELDS[field]
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise FieldProblem(missing)
    text = value.strip()
    allowed = _ALLOWED_MULTILINE if multiline else set()
    if any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in text):
        raise FieldProblem(f"{label} must not include hidden characters. Try typing it in rather than pasting it")
    if len(text) < lo:
        raise FieldProblem(f"{label} must be {lo} characters or more")
    if len(text) > hi:
        raise FieldProblem(f"{label} must be {hi} characters or fewer")
    return text


def _required_text(field: str, value: Any) -> str:
    text = _text(field, value)
    if text is None:
        raise FieldProblem(TEXT_FIELDS[field][1])
    return text


def _choice(value: Any, options: tuple[str, ...], message: str, default: str | None = None) -> str:
    if (value is None or value == "") and default is not None:
        return default
    if isinstance(value, str) and value.strip() in options:
        return value.strip()
    raise FieldProblem(message)


def _email(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise FieldProblem(MESSAGES["email"])
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise FieldProblem(MESSAGES["email"]) from None


def _phone(value: Any) -> str | None:
    """A UK number as typed (spaces tidied): 0 + 9 or 10 digits, or +44 / 0044 instead of the 0."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise FieldProblem(MESSAGES["phone"])
    compact = _PHONE_DECORATION.sub("", value)
    for prefix in ("+44", "0044"):
        if compact.startswith(prefix):
            # "+44 (0)1942 ..." is a common way to write it: the trunk 0 is optional.
            rest = compact[len(prefix):]
            compact = rest if rest.startswith("0") else "0" + rest
            break
    if not re.fullmatch(r"0[1-9][0-9]{8,9}", compact):
        raise FieldProblem(MESSAGES["phone"])
    return " ".join(value.split())


def _address(value: Any) -> str | None:
    text = _text("address", value)
    if text is not None and not _POSTCODE.search(text):
        raise FieldProblem(MESSAGES["postcode"])
    return text


def _date_of_birth(value: Any, today: date) -> date:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise FieldProblem(MESSAGES["dob_missing"])
    if isinstance(value, datetime):
        dob = value.date()
    elif isinstance(value, date):
        dob = value
    elif isinstance(value, str):
        dob = _parse_date(value.strip())
    else:
        raise FieldProblem(MESSAGES["dob_invalid"])
    if dob >= today:
        raise FieldProblem(MESSAGES["dob_future"])
    age = today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))
    if age > MAX_CHILD_AGE:
        raise FieldProblem(MESSAGES["dob_too_old"])
    return dob


def _parse_date(text: str) -> date:
    """ISO (2015-03-27, what date pickers send) or UK day/month/year (27/3/2015)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    m = re.fullmatch(r"(\d{1,2})[/\-. ](\d{1,2})[/\-. ](\d{4})", text)
    try:
        if m:
            return date(int(m[3]), int(m[2]), int(m[1]))
    except ValueError:
        pass
    raise FieldProblem(MESSAGES["dob_invalid"])


def _consent(value: Any) -> bool:
    if value is True or (isinstance(value, str) and value.strip().lower() in _TRUE):
        return True
    raise FieldProblem(MESSAGES["consent"])


def clean_fields(data: dict[str, Any], today: date | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """(clean values, {field: message}) for every field at once; ``data`` is left as it was."""
    today = today or date.today()
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}

    def run(field: str, check: Callable[[Any], Any]) -> None:
        try:
            clean[field] = check(data.get(field))
        except FieldProblem as problem:
            errors[field] = str(problem)

    run("request_type", lambda v: _choice(v, get_args(RequestType), MESSAGES["request_type"]))
    run("name", lambda v: _required_text("name", v))
    run("email", _email)
    run("phone", _phone)
    run("address", _address)
    run("on_behalf", lambda v: _choice(v, get_args(OnBehalf), MESSAGES["on_behalf"], default="self"))
    # Details for the other route are dropped, not stored: the resident may have switched
    # answers, and the council should keep only what the request needs.
    if clean.get("on_behalf") == "parent_or_guardian":
        run("child_name", lambda v: _required_text("child_name", v))
        run("child_dob", lambda v: _date_of_birth(v, today))
    if clean.get("on_behalf") == "representative":
        run("representing_name", lambda v: _required_text("representing_name", v))
    run("description", lambda v: _required_text("description", v))
    run("consent", _consent)

    if not any(f in errors or clean.get(f) for f in CONTACT_FIELDS):
        errors[CONTACT_ERROR_FIELD] = MESSAGES["contact"]
    # Same order as the form, so the error summary reads top to bottom.
    order = list(DPORequest.model_fields)
    return clean, dict(sorted(errors.items(), key=lambda kv: order.index(kv[0])))


class DPORequest(BaseModel):
    """A checked request: every field already trimmed, validated and resident-approved."""

    # hide_input_in_errors: a ValidationError that reaches a log must not carry the answers.
    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)

    request_type: RequestType
    name: str
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    on_behalf: OnBehalf = "self"
    child_name: str | None = None
    child_dob: date | None = None
    representing_name: str | None = None
    description: str
    consent: Literal[True]

    @model_validator(mode="before")
    @classmethod
    def _check_everything(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, BaseModel):
            data = data.model_dump()
        if not isinstance(data, dict):
            raise PydanticCustomError("dpo_form", "Expected the form's answers as a mapping")
        today = (info.context or {}).get("today")
        clean, errors = clean_fields(data, today)
        if errors:
            raise PydanticCustomError(
                "dpo_form", "{summary}", {"summary": "; ".join(f"{k}: {v}" for k, v in errors.items()), "errors": errors}
            )
        return clean

    @property
    def request_label(self) -> str:
        return REQUEST_TYPES[self.request_type]


def validate_form(data: dict[str, Any], today: date | None = None) -> tuple[DPORequest | None, dict[str, str]]:
    """(request, {}) when everything is right, else (None, {field: message}) for every problem.

    ``data`` is never modified: show it again as it is, with the messages beside the fields.
    ``today`` is only for tests of the date-of-birth rule.
    """
    try:
        return DPORequest.model_validate(data, context={"today": today}), {}
    except ValidationError as exc:
        for err in exc.errors():
            found = (err.get("ctx") or {}).get("errors")
            if found:
                return None, dict(found)
        # Not a mapping at all: nothing field-level to say, so ask for the request type first.
        return None, {"request_type": MESSAGES["request_type"]}
