import pytest

from api.patients.identifiers import (
    InvalidIdentifier,
    is_valid_nhs_number,
    nhs_check_digit,
    normalise_mobile,
    normalise_nhs_number,
)


def test_valid_nhs_number_is_accepted():
    # 943 476 5919 is NHS Digital's published example of a valid number.
    assert normalise_nhs_number("943 476 5919") == "9434765919"
    assert is_valid_nhs_number("9434765919")


def test_wrong_check_digit_is_rejected():
    with pytest.raises(InvalidIdentifier, match="wrong check digit"):
        normalise_nhs_number("9434765918")


def test_check_digit_ten_means_no_valid_number():
    # Weights 10..2 over 999000001 sum to 251; 251 mod 11 = 9, 11 - 9 = 2 -> valid.
    # Search the 999 range for a stem whose check digit would be 10.
    stem = next(f"999{n:06d}" for n in range(1000) if nhs_check_digit(f"999{n:06d}") is None)
    for last in "0123456789":
        assert not is_valid_nhs_number(stem + last)
    with pytest.raises(InvalidIdentifier, match="would be 10"):
        normalise_nhs_number(stem + "0")


def test_check_digit_eleven_becomes_zero():
    stem = next(f"999{n:06d}" for n in range(1000) if nhs_check_digit(f"999{n:06d}") == 0)
    total = sum(int(d) * w for d, w in zip(stem, range(10, 1, -1)))
    assert total % 11 == 0
    assert is_valid_nhs_number(stem + "0")


@pytest.mark.parametrize("raw", ["943476591", "94347659190", "94347659A9", "", "abcdefghij"])
def test_non_digits_and_wrong_lengths_are_rejected(raw):
    assert not is_valid_nhs_number(raw)


def test_uk_mobiles_are_normalised_to_e164():
    assert normalise_mobile("07700 900123") == "+447700900123"
    assert normalise_mobile("+44 7700 900123") == "+447700900123"
    with pytest.raises(InvalidIdentifier):
        normalise_mobile("not a number")
