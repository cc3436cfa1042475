"""The DPO form's checks: one plain-English message per field, every problem at once."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any, get_args

import pytest
from pydantic import ValidationError

from assistant.dpo_form import (
    CONSENT_MESSAGE,
    MESSAGES,
    ON_BEHALF,
    REQUEST_TYPE_HINTS,
    REQUEST_TYPES,
    DPORequest,
    OnBehalf,
    RequestType,
    validate_form,
)

TODAY = date(2026, 6, 15)


def valid(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "request_type": "subject_access",
        "name": "Alex Resident",
        "email": "alex@example.com",
        "phone": "",
        "address": "",
        "on_behalf": "self",
        "description": "Please send me a copy of my council tax records.",
        "consent": True,
    }
    data.update(changes)
    return data


def errors_for(**changes: Any) -> dict[str, str]:
    req, errors = validate_form(valid(**changes), today=TODAY)
    assert req is None
    return errors


def test_a_valid_form_gives_a_clean_request():
    req, errors = validate_form(valid(name="  Alex Resident  ", email=" Alex@Example.COM "), today=TODAY)
    assert errors == {}
    assert req is not None
    assert req.name == "Alex Resident"
    assert req.email == "Alex@example.com"  # the domain is normalised, the local part kept
    assert req.phone is None and req.address is None
    assert req.request_label == REQUEST_TYPES["subject_access"]


def test_every_request_type_has_a_label_and_a_next_step():
    assert set(REQUEST_TYPES) == set(get_args(RequestType)) == set(REQUEST_TYPE_HINTS)
    assert set(ON_BEHALF) == set(get_args(OnBehalf))
    for t in REQUEST_TYPES:
        req, errors = validate_form(valid(request_type=t), today=TODAY)
        assert errors == {} and req is not None and req.request_type == t


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"request_type": None}, "request_type", "Select what your request is about"),
        ({"request_type": "delete_everything"}, "request_type", "Select what your request is about"),
        ({"name": ""}, "name", "Enter your full name"),
        ({"name": "   "}, "name", "Enter your full name"),
        ({"name": "A"}, "name", "Full name must be 2 characters or more"),
        ({"name": "A" * 201}, "name", "Full name must be 200 characters or fewer"),
        ({"name": "Alex\x00Resident"}, "name", "Full name must not include hidden characters. Try typing it in rather than pasting it"),
        ({"name": "Alex\nResident"}, "name", "Full name must not include hidden characters. Try typing it in rather than pasting it"),
        ({"email": "alex.example.com"}, "email", "Enter an email address in the correct format, like name@example.com"),
        ({"email": "alex@"}, "email", "Enter an email address in the correct format, like name@example.com"),
        ({"email": "alex@exa mple.com"}, "email", "Enter an email address in the correct format, like name@example.com"),
        ({"phone": "12345"}, "phone", MESSAGES["phone"]),
        ({"phone": "+1 202 555 0100"}, "phone", MESSAGES["phone"]),
        ({"phone": "07700 900 98a"}, "phone", MESSAGES["phone"]),
        ({"phone": "077009009821234"}, "phone", MESSAGES["phone"]),
        ({"address": "1 Road"}, "address", "Postal address must be 10 characters or more"),
        ({"address": "1 Long Road, " * 40 + "WN1 1YN"}, "address", "Postal address must be 500 characters or fewer"),
        ({"address": "1 Market Street, Wigan"}, "address", "Enter a postal address that includes the postcode, like WN1 1YN"),
        ({"address": "1 Market St\x07, Wigan WN1 1YN"}, "address", "Postal address must not include hidden characters. Try typing it in rather than pasting it"),
        ({"on_behalf": "my cat"}, "on_behalf", "Select who the request is for"),
        ({"description": ""}, "description", "Enter details of your request"),
        ({"description": "Help"}, "description", "Details of your request must be 10 characters or more"),
        ({"description": "x" * 5001}, "description", "Details of your request must be 5000 characters or fewer"),
        ({"description": "Please help\x1b[31m me"}, "description", "Details of your request must not include hidden characters. Try typing it in rather than pasting it"),
        ({"consent": False}, "consent", CONSENT_MESSAGE),
        ({"consent": None}, "consent", CONSENT_MESSAGE),
        ({"consent": "no"}, "consent", CONSENT_MESSAGE),
    ],
)
def test_each_problem_gets_one_clear_message(changes: dict[str, Any], field: str, message: str):
    assert errors_for(**changes) == {field: message}


def test_consent_message_is_the_agreed_wording():
    assert CONSENT_MESSAGE == "You need to agree that the council may use these details to handle your request"


def test_at_least_one_way_to_contact_is_needed():
    errors = errors_for(email="", phone=None, address="  ")
    assert errors == {"email": "Enter at least one way for us to contact you: an email address, a UK phone number or a postal address"}


@pytest.mark.parametrize("phone", ["01942 244991", "07700 900 982", "+44 7700 900982", "+44 (0)1942 244991",
                                   "0044 1942 244991", "0800 123 456", "01942-244-991"])  # fmt: skip
def test_uk_phone_numbers_are_accepted(phone: str):
    req, errors = validate_form(valid(email="", phone=f" {phone} "), today=TODAY)
    assert errors == {} and req is not None and req.phone == " ".join(phone.split())


@pytest.mark.parametrize("address", ["1 Market Street\nWigan\nWN1 1YN", "Flat 2, 10 High St, London sw1a2aa",
                                     "12 Church Road, Leigh, WN7 1AA", "Town Hall, Library Street, M1 1AA"])  # fmt: skip
def test_addresses_with_a_postcode_are_accepted(address: str):
    req, errors = validate_form(valid(email=None, address=address), today=TODAY)
    assert errors == {} and req is not None and req.address == address


def test_parent_must_name_the_child_and_give_a_date_of_birth():
    errors = errors_for(on_behalf="parent_or_guardian")
    assert errors == {"child_name": "Enter the child's full name", "child_dob": "Enter the child's date of birth"}


@pytest.mark.parametrize(
    "dob, message",
    [
        ("31/02/2015", "Child's date of birth must be a real date, like 27/3/2015"),
        ("next tuesday", "Child's date of birth must be a real date, like 27/3/2015"),
        ("2026-06-15", "Child's date of birth must be in the past"),
        (date(2027, 1, 1), "Child's date of birth must be in the past"),
        ("2000-06-15", "Child's date of birth must be in the last 26 years. If they are 26 or older, "
                       "choose ‘Someone else, as their representative’"),
    ],
)  # fmt: skip
def test_child_date_of_birth_problems(dob: object, message: str):
    assert errors_for(on_behalf="parent_or_guardian", child_name="Sam Resident", child_dob=dob) == {"child_dob": message}


@pytest.mark.parametrize("dob, expected", [("2015-03-27", date(2015, 3, 27)), ("27/3/2015", date(2015, 3, 27)),
                                           (date(2020, 1, 1), date(2020, 1, 1)),
                                           # a care leaver the day before their 26th birthday: still accepted
                                           ("2000-06-16", date(2000, 6, 16))])  # fmt: skip
def test_child_dates_of_birth_accepted(dob: object, expected: date):
    req, errors = validate_form(valid(on_behalf="parent_or_guardian", child_name="Sam Resident", child_dob=dob), today=TODAY)
    assert errors == {} and req is not None
    assert req.child_dob == expected and req.child_name == "Sam Resident"


def test_representative_must_say_who_they_act_for():
    assert errors_for(on_behalf="representative") == {
        "representing_name": "Enter the full name of the person you are acting for"
    }
    req, errors = validate_form(valid(on_behalf="representative", representing_name=" Pat Client "), today=TODAY)
    assert errors == {} and req is not None and req.representing_name == "Pat Client"


def test_details_for_a_route_not_chosen_are_not_kept():
    req, errors = validate_form(
        valid(on_behalf="self", child_name="Sam", child_dob="not a date", representing_name="x"), today=TODAY
    )
    assert errors == {} and req is not None
    assert req.child_name is None and req.child_dob is None and req.representing_name is None


def test_multi_line_answers_keep_their_line_breaks():
    req, _ = validate_form(valid(description="  First line.\nSecond line.\tTabbed.  "), today=TODAY)
    assert req is not None and req.description == "First line.\nSecond line.\tTabbed."


def test_every_problem_is_reported_at_once_in_form_order():
    data = valid(request_type="", name="A", email="not-an-email", phone="123", address="No postcode here",
                 on_behalf="parent_or_guardian", child_name="", child_dob="2030-01-01",
                 description="short", consent=False)  # fmt: skip
    before = copy.deepcopy(data)
    req, errors = validate_form(data, today=TODAY)
    assert req is None
    assert list(errors) == ["request_type", "name", "email", "phone", "address", "child_name", "child_dob",
                            "description", "consent"]  # fmt: skip
    assert all(isinstance(m, str) and m and "\n" not in m for m in errors.values())
    # Nothing the resident typed is lost: the caller can show the same dict again.
    assert data == before


def test_valid_fields_are_not_reported_when_others_are_wrong():
    data = valid(phone="07700 900 982", description="short")
    before = copy.deepcopy(data)
    _, errors = validate_form(data, today=TODAY)
    assert errors == {"description": "Details of your request must be 10 characters or more"}
    assert data == before


def test_missing_keys_are_treated_as_empty_answers():
    req, errors = validate_form({}, today=TODAY)
    assert req is None
    assert errors == {
        "request_type": "Select what your request is about",
        "name": "Enter your full name",
        "email": MESSAGES["contact"],
        "description": "Enter details of your request",
        "consent": CONSENT_MESSAGE,
    }


def test_the_model_cannot_be_built_from_bad_answers_and_does_not_echo_them():
    with pytest.raises(ValidationError) as info:
        DPORequest(request_type="erasure", name="Zed Secretname", description="x")
    assert "Secretname" not in str(info.value)
    found = info.value.errors()[0]["ctx"]["errors"]
    assert found["description"] == "Details of your request must be 10 characters or more"
    assert found["consent"] == CONSENT_MESSAGE


def test_the_model_accepts_good_answers_directly():
    req = DPORequest.model_validate(valid())
    assert req.consent is True and req.on_behalf == "self"
