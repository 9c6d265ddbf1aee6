"""Staff password policy: long enough, and not a common or easily guessed password.

Why zxcvbn (Dropbox's estimator, the maintained Python port on PyPI): it works offline (its
frequency lists of leaked passwords, names and words ship inside the package, so no password
ever leaves the machine, and no breach API is called), and it catches what a plain list of
breached passwords misses at 12+ characters: "password1234", "qwertyuiop12", "aaaaaaaaaaaa",
keyboard walks, dates, and the user's own username or name with a few digits added. NCSC and
NIST SP 800-63B ask for exactly this: length, and a check against known-bad passwords, with no
composition rules.
"""

from __future__ import annotations

import secrets

from zxcvbn import zxcvbn

MIN_LENGTH = 12
MAX_LENGTH = 256  # as the forms allow
# Score 3 means at least 10^8 guesses by zxcvbn's estimate: well beyond what sign-in
# throttling allows online, and slow offline against argon2.
MIN_SCORE = 3
# zxcvbn's own bound (it refuses longer input): its cost grows fast with length (1.4 s for 256
# characters), so a long passphrase is judged by its first 72 characters, which is plenty.
ESTIMATE_LENGTH = 72
# Words an attacker would try first against this service in particular.
SERVICE_WORDS = ("rebook", "nhs", "hospital", "bookings", "console", "staff", "admin")


def problem(password: str, *, user_inputs: tuple[str, ...] = ()) -> str | None:
    """Why `password` is refused (a sentence for the user), or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"password must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"password must be at most {MAX_LENGTH} characters"
    if not is_encodable(password):
        return "password holds characters that cannot be stored (lone surrogates)"
    words = [w for w in (*user_inputs, *SERVICE_WORDS) if w]
    if zxcvbn(password[:ESTIMATE_LENGTH], user_inputs=words,
              max_length=ESTIMATE_LENGTH)["score"] < MIN_SCORE:
        return ("password is too common or too easy to guess (a name, a word with digits, "
                "a pattern): try three or four unrelated words")
    return None


def is_encodable(password: str) -> bool:
    """False for text no hash can take: JSON may carry lone surrogates ("\\ud800")."""
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def generate() -> str:
    """A random temporary password (96 bits), to be shown once and changed by its owner."""
    return secrets.token_urlsafe(12)
