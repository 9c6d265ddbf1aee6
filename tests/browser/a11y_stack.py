"""One running api over a realistic bookings desk, shared by a module's accessibility tests.

Started once per module (a page visit is cheap, starting the api and seeding are not), so it
sets its own environment instead of using the per-test live fixtures.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import pytest

from api.campaigns import service as campaigns_service
from api.conversations.models import Conversation
from api.db import utcnow
from api.demo import service as demo_service
from api.handover.models import HandoverReason, Urgency
from api.messaging import sandbox
from api.messaging.models import Channel, Direction, Message, MessageCategory, MessageStatus
from api.staff.models import Role
from tests.conftest import clear_app_caches, empty_live_database, point_at_live_database
from tests.handover.helpers import PASSWORD, Desk, inbound
from tests.integration.pas_rows import make_traffic
from tests.processes import free_port, process_env, running, wait_http


@dataclass(frozen=True)
class Stack:
    base: str
    ids: dict  # what page paths name: {"handover": 3, "campaign": 1}
    phone: str  # the sandbox patient with a long conversation
    admin: str = "a.admin"
    password: str = PASSWORD


def _conversation(session, mobile: str, count: int = 24) -> str:
    """A long back-and-forth, so the sandbox phone's thread scrolls."""
    conversation = Conversation(channel=Channel.SMS, address=mobile, last_inbound_at=utcnow())
    session.add(conversation)
    session.flush()
    start = utcnow() - timedelta(hours=3)
    for n in range(count):
        at = start + timedelta(minutes=5 * n)
        if n % 2 == 0:
            inbound(session, conversation, f"Message {n} from the patient: is Tuesday free?",
                    at=at)
            continue
        session.add(Message(direction=Direction.OUTBOUND, channel=conversation.channel,
                            from_address="+447700900000", to_address=conversation.address,
                            body=f"Reply {n}: Tuesday 10:30 at the Outpatients Centre is free. "
                                 "Reply 1 to book it.",
                            status=MessageStatus.DELIVERED, category=MessageCategory.REPLY,
                            conversation_id=conversation.id, created_at=at))
    session.flush()
    return mobile


def seed(session) -> tuple[dict, str]:
    """The demo trust, a desk of staff with a morning's handovers, a campaign, a long thread."""
    trust = demo_service.seed(session=session, patients=300)
    desk = Desk(session, prefix="a")
    urgent, *_ = desk.patient_case(
        urgency=Urgency.URGENT, reason=HandoverReason.RED_FLAG, given_name="Margaret",
        family_name="Okafor-Whitfield", text="I have had chest pain since this morning")
    late, *_ = desk.patient_case(urgency=Urgency.HIGH, given_name="Priya", family_name="Shah",
                                 text="I can't make the new date, I work nights that week")
    late.due_at = utcnow() - timedelta(minutes=40)  # overdue
    desk.patient_case(urgency=Urgency.NORMAL, reason=HandoverReason.COMMUNICATION_NEEDS,
                      given_name="Tom", family_name="Evans", text="My dad needs an interpreter")
    campaign = campaigns_service.create(
        session=session, name="Resident doctors strike: first notice",
        disruption_id=trust.disruption_id, created_by=desk.users[Role.ADMIN].audit_actor,
        sms_template="{trust_name}: your appointment has moved because of industrial action. "
                     "Reply to choose a new date or call {bookings_phone}.")
    # The sandbox page opens on its first demo phone: that patient has a long conversation.
    phone = _conversation(session, sandbox.demo_phones(session=session, limit=1)[0]["mobile"])
    pas = make_traffic(session, utcnow())  # the hospital-systems pages' figures and exceptions
    return {"handover": urgent.id, "campaign": campaign.id,
            "integration_exception": pas.exception_id}, phone


@contextmanager
def running_stack(database_url: str, log_dir):
    with pytest.MonkeyPatch.context() as monkeypatch:
        point_at_live_database(monkeypatch, database_url)
        clear_app_caches()
        from api.config import get_settings
        from api.db import get_sessionmaker

        try:
            with get_sessionmaker()() as session:
                ids, phone = seed(session)
                session.commit()
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            settings = get_settings().model_copy(update={"public_base_url": base})
            # Every PAS adapter configured, so the hospital-systems page shows all its tables.
            with running(["serve", "--port", str(port)],
                         process_env(settings, PAS_MODE="fhir,hl7,csv"),
                         log_dir / "api.log"):
                wait_http(f"{base}/healthz")
                yield Stack(base=base, ids=ids, phone=phone)
        finally:
            empty_live_database()
