"""The password policy: long enough, not common, not the user's own name."""

import pytest

from api.staff import passwords


@pytest.mark.parametrize("password", [
    "password1234", "qwertyuiop12", "aaaaaaaaaaaa", "123456789012", "iloveyou12345",
    "Password123!", "Welcome12345", "rebook123456"])
def test_common_and_patterned_passwords_are_refused(password):
    assert "too common" in passwords.problem(password)


def test_the_users_own_name_counts_against_the_password():
    assert passwords.problem("jbloggs12345") is None  # a stranger's name is just letters
    assert "too common" in passwords.problem("jbloggs12345", user_inputs=("jbloggs",))


@pytest.mark.parametrize("password", ["tea and biscuits", "purple monkey dishwasher",
                                      "correct horse battery staple"])
def test_unrelated_words_are_accepted(password):
    assert passwords.problem(password) is None


def test_length_limits():
    assert "at least 12" in passwords.problem("Zq8#vT1!pL")
    assert "at most" in passwords.problem("x" * (passwords.MAX_LENGTH + 1))


def test_long_passphrases_are_judged_by_their_start():
    assert passwords.problem(("tea and biscuits at the nurses station " * 7)[:256]) is None
    assert "too common" in passwords.problem("a" * 200 + " tea and biscuits")


def test_generated_passwords_pass_the_policy_and_differ():
    generated = {passwords.generate() for _ in range(20)}
    assert len(generated) == 20
    assert all(passwords.problem(p) is None for p in generated)
