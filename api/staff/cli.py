"""`rebook staff ...`: create and manage staff accounts and API keys (every change audited)."""

from __future__ import annotations

import getpass
import json
from datetime import datetime

import typer
from rich.console import Console

from api.system import terminal

app = typer.Typer(help="Staff accounts and API keys.", no_args_is_help=True)
PASSWORD_VARIABLE = "REBOOK_STAFF_PASSWORD"
console = Console(stderr=True)


def _fail(exc: Exception) -> None:
    console.print(f"[red]error:[/red] {exc}")
    raise typer.Exit(code=2) from exc


def _actor() -> str:
    """The audit actor of a command-line operator: the operating-system account."""
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (KeyError, OSError):  # a container user with no passwd entry
        return "cli"


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


@app.command("create-user")
def create_user(
    username: str = typer.Argument(..., help="Sign-in name, e.g. j.bloggs"),
    role: str = typer.Option("clerk", metavar="ROLE", help="clerk, clinician or admin"),
    display_name: str = typer.Option("", metavar="NAME", help="Name shown in the console"),
    password: str = typer.Option(None, metavar="PASSWORD", show_envvar=False,
                                 help=f"Better: set {PASSWORD_VARIABLE} (not kept in shell "
                                      "history); at a terminal you are asked"),
) -> None:
    """Create a staff user who can sign in to the console."""
    from api.audit import service as audit_service
    from api.db import session_scope
    from api.staff import service as staff_service
    from api.staff.models import Role

    terminal.check_all("role", [role], (r.value for r in Role))
    password = terminal.secret(password, variable=PASSWORD_VARIABLE, prompt="Password")
    try:
        with session_scope() as session:
            user = staff_service.create_user(session=session, username=username,
                                             password=password, role=Role(role),
                                             display_name=display_name or username)
            audit_service.record(session=session, actor=_actor(), action="create_staff_user",
                                 object_type="staff_user", object_id=user.id,
                                 details={"role": role})
    except ValueError as exc:
        _fail(exc)
    console.print(f"[green]created {role} {username}[/green]")


@app.command("list")
def list_users(as_json: bool = terminal.JsonOption) -> None:
    """Every staff account: role, active, locked."""
    from api.db import session_scope
    from api.staff import service as staff_service

    with session_scope() as session:
        rows = [{"id": u.id, "username": u.username, "display_name": u.display_name,
                 "role": u.role.value, "active": u.active,
                 "locked_until": _iso(u.locked_until) if staff_service.is_locked(user=u)
                 else None}
                for u in staff_service.list_users(session=session, actor=_actor())]
    if as_json:
        typer.echo(json.dumps(rows, indent=1))
        return
    terminal.table(f"Staff accounts ({len(rows)})", ("username", "name", "role", "state"), [
        (r["username"], r["display_name"], r["role"],
         "deactivated" if not r["active"] else
         f"locked until {_local(r['locked_until'])}" if r["locked_until"] else "active")
        for r in rows])


def _local(text: str | None) -> str:
    """An ISO instant as the trust's wall-clock time, naming the zone."""
    if not text:
        return "-"
    return f"{terminal.local(datetime.fromisoformat(text), '%d %b %Y %H:%M')} " \
           f"({terminal.zone_name()} time)"


def _on_user(username: str, verb) -> None:
    from api.db import session_scope
    from api.staff import service as staff_service

    try:
        with session_scope() as session:
            user = staff_service.user_named(session=session, username=username)
            verb(session, user)
    except ValueError as exc:
        _fail(exc)


@app.command("deactivate")
def deactivate(username: str) -> None:
    """Stop a user signing in: ends their console sessions and revokes their API keys."""
    from api.staff import service as staff_service

    _on_user(username, lambda session, user: staff_service.deactivate(
        session=session, actor=_actor(), user=user))
    console.print(f"[green]deactivated {username}[/green]")


@app.command("reactivate")
def reactivate(username: str) -> None:
    """Let a deactivated user sign in again (revoked API keys stay revoked)."""
    from api.staff import service as staff_service

    _on_user(username, lambda session, user: staff_service.reactivate(
        session=session, actor=_actor(), user=user))
    console.print(f"[green]reactivated {username}[/green]")


@app.command("unlock")
def unlock(username: str) -> None:
    """Lift a lockout after failed sign-ins now."""
    from api.staff import service as staff_service

    _on_user(username, lambda session, user: staff_service.unlock(
        session=session, actor=_actor(), user=user))
    console.print(f"[green]unlocked {username}[/green]")


@app.command("reset-password")
def reset_password(
    username: str,
    generate: bool = typer.Option(False, "--generate",
                                  help="Generate a temporary password and print it once."),
    password: str = typer.Option(None, metavar="PASSWORD", show_envvar=False,
                                 help=f"The temporary password; better: set "
                                      f"{PASSWORD_VARIABLE}; at a terminal you are asked"),
) -> None:
    """Set a temporary password (ends the user's sessions, lifts any lockout)."""
    from api.staff import service as staff_service

    if not generate:
        password = terminal.secret(password, variable=PASSWORD_VARIABLE,
                                   prompt="Temporary password")
    generated: list[str | None] = []
    _on_user(username, lambda session, user: generated.append(staff_service.reset_password(
        session=session, actor=_actor(), user=user, password=None if generate else password)))
    if generated and generated[0]:
        typer.echo(generated[0])  # stdout, once: it is stored only as a hash
    console.print(f"[green]password reset for {username}; their sessions have ended[/green]")


@app.command("change-password")
def change_password(
    username: str,
    current_password: str = typer.Option(
        None, metavar="PASSWORD", show_envvar=False,
        help="Better: set REBOOK_STAFF_CURRENT_PASSWORD; at a terminal you are asked"),
    new_password: str = typer.Option(
        None, metavar="PASSWORD", show_envvar=False,
        help="Better: set REBOOK_STAFF_NEW_PASSWORD; at a terminal you are asked"),
) -> None:
    """Change a user's own password, given the current one (ends their sessions)."""
    from api.staff import service as staff_service

    current_password = terminal.secret(current_password, prompt="Current password",
                                       variable="REBOOK_STAFF_CURRENT_PASSWORD", confirm=False)
    new_password = terminal.secret(new_password, variable="REBOOK_STAFF_NEW_PASSWORD",
                                   prompt="New password")
    _on_user(username, lambda session, user: staff_service.change_password(
        session=session, user=user, current_password=current_password,
        new_password=new_password))
    console.print(f"[green]password changed for {username}[/green]")


@app.command("create-api-key")
def create_api_key(
    username: str = typer.Argument(..., help="The staff user the key acts as"),
    label: str = typer.Option("", help="What the key is for, e.g. 'PAS integration'"),
) -> None:
    """Issue an API key for the staff JSON API; it is printed once and never shown again."""
    from api.audit import service as audit_service
    from api.staff import service as staff_service

    keys: list[str] = []

    def issue(session, user):
        keys.append(staff_service.create_api_key(session=session, user=user, label=label))
        audit_service.record(session=session, actor=_actor(), action="create_api_key",
                             object_type="api_key",
                             object_id=keys[0][len(staff_service.API_KEY_PREFIX):].split("_")[0],
                             details={"staff_user_id": user.id})

    _on_user(username, issue)
    typer.echo(keys[0])


@app.command("api-keys")
def api_keys(
    username: str = typer.Argument(None, help="Only this user's keys"),
    as_json: bool = terminal.JsonOption,
) -> None:
    """API keys, newest first: prefix, user, label, created, last used, revoked."""
    from api.db import session_scope
    from api.staff import service as staff_service

    try:
        with session_scope() as session:
            user = staff_service.user_named(session=session, username=username) \
                if username else None
            rows = [{"prefix": k.prefix, "username": k.staff_user.username, "label": k.label,
                     "created_at": _iso(k.created_at), "last_used_at": _iso(k.last_used_at),
                     "revoked_at": _iso(k.revoked_at)}
                    for k in staff_service.list_api_keys(session=session, actor=_actor(),
                                                         user=user)]
    except ValueError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps(rows, indent=1))
        return
    terminal.table(f"API keys ({len(rows)})",
                   ("prefix", "user", "label", "created", "last used", "revoked"),
                   [(r["prefix"], r["username"], r["label"] or "-", _local(r["created_at"]),
                     _local(r["last_used_at"]), _local(r["revoked_at"])) for r in rows])


@app.command("revoke-api-key")
def revoke_api_key(prefix: str = typer.Argument(..., help="The prefix, as `api-keys` lists it")
                   ) -> None:
    """Stop an API key working from now on."""
    from api.db import session_scope
    from api.staff import service as staff_service

    try:
        with session_scope() as session:
            staff_service.revoke_api_key(session=session, actor=_actor(), prefix=prefix)
    except ValueError as exc:
        _fail(exc)
    console.print(f"[green]revoked API key {prefix}[/green]")


@app.command("link-oidc")
def link_oidc(
    username: str = typer.Argument(..., help="The existing staff user"),
    subject: str = typer.Argument(..., help="Their object ID in Entra ID (the 'oid' claim; "
                                            "'sub' for other providers)"),
) -> None:
    """Let a staff user sign in through single sign-on (needed when OIDC_AUTO_PROVISION=false)."""
    from api.audit import service as audit_service
    from api.config import get_settings
    from api.db import session_scope
    from api.staff import service as staff_service
    from api.staff import sso

    issuer = get_settings().oidc_issuer
    if not issuer:
        console.print("[red]error:[/red] set OIDC_ISSUER first")
        raise typer.Exit(code=2)
    try:
        with session_scope() as session:
            user = staff_service.get_user(session=session, username=username)
            if user is None:
                raise staff_service.StaffError(f"no staff user {username!r}")
            sso.link_user(session=session, user=user, issuer=issuer, subject=subject.strip())
            audit_service.record(session=session, actor=_actor(), action="link_oidc",
                                 object_type="staff_user", object_id=user.id)
    except staff_service.StaffError as exc:
        _fail(exc)
    console.print(f"[green]{username} can now sign in with single sign-on[/green]")
