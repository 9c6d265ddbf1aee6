"""NHS numbers and phone numbers: validation and normal forms."""

from __future__ import annotations

import phonenumbers

NHS_NUMBER_LENGTH = 10


class InvalidIdentifier(ValueError):
    """An NHS number or phone number that cannot be accepted."""


def nhs_check_digit(first_nine: str) -> int | None:
    """The modulus-11 check digit for nine digits, or None when no valid number exists."""
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, range(10, 1, -1)))
    check = 11 - (total % 11)
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def normalise_nhs_number(raw: str) -> str:
    """Return the 10-digit NHS number, accepting spaces or dashes ("943 476 5919")."""
    digits = raw.replace(" ", "").replace("-", "")
    if len(digits) != NHS_NUMBER_LENGTH or not digits.isdigit():
        raise InvalidIdentifier("an NHS number is 10 digits")
    expected = nhs_check_digit(digits[:9])
    if expected is None:
        raise InvalidIdentifier("not a valid NHS number (its check digit would be 10)")
    if int(digits[9]) != expected:
        raise InvalidIdentifier("not a valid NHS number (wrong check digit)")
    return digits


def is_valid_nhs_number(raw: str) -> bool:
    try:
        normalise_nhs_number(raw)
    except InvalidIdentifier:
        return False
    return True


def normalise_mobile(raw: str, region: str = "GB") -> str:
    """Return the number in E.164 ("+447700900123"); UK national forms are accepted."""
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidIdentifier("not a phone number") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidIdentifier("not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
