"""Single sign-on accounts: the staff user a verified identity belongs to, with the role its
claims give it (created on first sign-in when allowed). The protocol is `api.staff.oidc`."""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit import service as audit_service
from api.config import Settings
from api.staff import service as staff_service
from api.staff.models import Role, StaffUser
from api.staff.oidc import Identity, SignInRefused

# One role per user: with several mapped claim values the widest wins (an admin may do all
# a clinician or a clerk may).
ROLE_PRECEDENCE = (Role.ADMIN, Role.CLINICIAN, Role.CLERK)
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
# Not an argon2 hash, so no password ever matches it: a provisioned user signs in only
# through the provider until an admin gives them a password.
NO_PASSWORD_PREFIX = "!sso-only:"


def role_map(*, settings: Settings) -> dict[str, Role]:
    """OIDC_ROLE_MAP as claim value -> Rebook role."""
    pairs = (p.partition("=") for p in settings.oidc_role_map.split(",") if p.strip())
    return {value.strip(): Role(role.strip()) for value, _, role in pairs}


def role_for(*, settings: Settings, role_values: tuple[str, ...]) -> Role | None:
    """The Rebook role the provider's role claim values map to, or None."""
    mapping = role_map(settings=settings)
    granted = {mapping[v] for v in role_values if v in mapping}
    return next((role for role in ROLE_PRECEDENCE if role in granted), None)


def find_user(*, session: Session, issuer: str, subject: str) -> StaffUser | None:
    """The staff user linked to this identity at this provider, if any."""
    return session.scalar(select(StaffUser).where(StaffUser.oidc_issuer == issuer,
                                                  StaffUser.oidc_subject == subject))


def link_user(*, session: Session, user: StaffUser, issuer: str, subject: str) -> None:
    """Let `user` sign in as this identity at this provider (replacing any earlier link)."""
    if not subject or len(subject) > 255:
        raise staff_service.StaffError("the subject must be 1 to 255 characters")
    other = find_user(session=session, issuer=issuer, subject=subject)
    if other is not None and other.id != user.id:
        raise staff_service.StaffError(f"this identity is already linked to {other.username!r}")
    user.oidc_issuer, user.oidc_subject = issuer, subject
    session.flush()


def _username_for(session: Session, identity: Identity) -> str:
    # The provider's username is a readable label if free; never a way into another account.
    hint = identity.username_hint.strip().lower()
    if _USERNAME.fullmatch(hint) and staff_service.get_user(session=session, username=hint) is None:
        return hint
    return "sso-" + hashlib.sha256(f"{identity.issuer}|{identity.subject}".encode()
                                   ).hexdigest()[:16]


def _refuse(session: Session, identity: Identity, user: StaffUser | None, message: str,
            reason: str) -> SignInRefused:
    audit_service.record(
        session=session, actor=user.audit_actor if user else "oidc",
        action="login_oidc_refused", object_type="staff_user" if user else "oidc_subject",
        object_id=user.id if user else identity.subject[:64], details={"reason": reason})
    return SignInRefused(message, 403, reason)


def sign_in(*, session: Session, settings: Settings, identity: Identity) -> StaffUser:
    """The active staff user for a verified identity, its role set from the claims; audited.
    SignInRefused (audited too) when the claims or the account do not allow it."""
    user = find_user(session=session, issuer=identity.issuer, subject=identity.subject)
    role = role_for(settings=settings, role_values=identity.role_values)
    if user is not None and not user.active:
        raise _refuse(session, identity, user, "Your Rebook account is deactivated. Ask a "
                      "Rebook admin to reactivate it.", "deactivated")
    if settings.oidc_require_mfa and "mfa" not in identity.amr:
        raise _refuse(session, identity, user, "Rebook needs you to sign in with multi-factor "
                      "authentication. Sign out of your organisation's account and sign in "
                      "again with your second factor.", "no_mfa")
    if role is None:
        raise _refuse(session, identity, user, "Your account has no Rebook role. Ask your IT "
                      "service desk to give you one of the Rebook roles (clerk, clinician or "
                      "admin) and sign in again.", "no_role")
    provisioned = user is None
    if provisioned:
        if not settings.oidc_auto_provision:
            raise _refuse(session, identity, None, "You have no Rebook account yet. Ask a "
                          "Rebook admin to link your account, then sign in again.", "no_account")
        user = StaffUser(username=_username_for(session, identity),
                         display_name=identity.display_name, role=role,
                         password_hash=NO_PASSWORD_PREFIX + secrets.token_urlsafe(24),
                         oidc_issuer=identity.issuer, oidc_subject=identity.subject)
        session.add(user)
        session.flush()
    details: dict = {"role": role.value, "provisioned": provisioned}
    if user.role != role:
        details["previous_role"] = user.role.value
        user.role = role  # the provider is the source of truth for roles, at every sign-in
    user.display_name = identity.display_name
    # A password lockout throttles guessing; a verified provider sign-in proves who this is.
    user.failed_logins = 0
    user.locked_until = None
    audit_service.record(session=session, actor=user.audit_actor,
                         action="login_oidc", object_type="staff_user", object_id=user.id,
                         details=details)
    return user
