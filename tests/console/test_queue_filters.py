"""The queue page: the flagged message quoted, red flags first and said in words, filters
(mine, urgent, overdue, type) and a search in a shareable GET form, kept by the live update;
searching for a patient is audited."""

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from api.audit.models import AuditEvent
from api.conversations import safety
from api.db import utcnow
from api.flows.safety_net import send_safety_net
from api.handover import casework
from api.handover.models import HandoverReason, Urgency
from api.staff.models import Role
from tests.console.test_console import sign_in
from tests.handover.helpers import Desk, inbound


@pytest.fixture
def desk(db_session):
    return Desk(db_session)


def ids_in(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-handover-id="(\d+)"', html)]


@pytest.fixture
def cases(desk, db_session):
    """A normal case, an overdue complaint claimed by the clerk, and a red flag opened by the
    real safety net on a conversation that started with "hiya"."""
    normal, *_ = desk.patient_case(urgency=Urgency.NORMAL, given_name="Priya",
                                   family_name="Shah", text="can I move my appointment")
    complaint, *_ = desk.patient_case(reason=HandoverReason.COMPLAINT, urgency=Urgency.HIGH,
                                      text="nobody rang me back", family_name="Okafor")
    complaint.due_at = utcnow() - timedelta(minutes=30)
    casework.claim(session=db_session, handover=complaint, user=desk.users[Role.CLERK])
    other, _, _, conversation = desk.patient_case(urgency=Urgency.NORMAL, text="hiya",
                                                  family_name="Jones")
    flagged = inbound(db_session, conversation, "I have crushing chest pain right now")
    send_safety_net(session=db_session, settings=desk.settings, conversation=conversation,
                    message=flagged, result=safety.screen(flagged.body))
    db_session.flush()
    assert other.reason is HandoverReason.RED_FLAG  # the open case escalated
    return {"normal": normal, "complaint": complaint, "red_flag": other}


def test_red_flags_come_first_said_in_words_quoting_the_flagged_message(api_client, cases):
    sign_in(api_client, "t.clerk")
    html = api_client.get("/console/queue").text
    assert ids_in(html)[0] == cases["red_flag"].id
    row = html[html.index(f'data-handover-id="{cases["red_flag"].id}"'):]
    row = row[:row.index("</tr>")]
    assert "Red flag</strong>" in row and "tag-red-flag" in row
    quote = unescape(re.search(r'class="quote[^"]*">(.*?)</div>', row, re.S).group(1))
    assert "crushing chest pain" in quote and "hiya" not in quote
    assert 'class="table responsive"' in html
    assert all('data-label="' in cell for cell in re.findall(r"<td[^>]*>", html))


@pytest.mark.parametrize(("query", "expected"), [
    ("mine=1", ["complaint"]),
    ("urgent=1", ["red_flag"]),
    ("overdue=1", ["complaint"]),
    ("type=complaint", ["complaint"]),
    ("type=red_flag", ["red_flag"]),
    ("type=not_a_type", ["red_flag", "complaint", "normal"]),
    ("q=priya+shah", ["normal"]),
    ("q=OKAFOR", ["complaint"]),
    ("q={last5}", ["normal"]),  # last digits of the phone
    ("q={national}", ["normal"]),  # the whole number as people write it
    ("q=%22chest+pain%22", ["red_flag"]),  # words the patient wrote (quoted)
    ("q=nobody+rang", ["complaint"]),
    ("q=no+such+patient", []),
    ("q=100%25", []),  # a LIKE wildcard is a character, not "everything"
    ("mine=1&urgent=1", []),
])
def test_filters_and_search(api_client, cases, db_session, query, expected):
    from api.patients.models import Patient

    mobile = db_session.get(Patient, cases["normal"].patient_id).mobile  # +447700900123
    query = query.format(last5=mobile[-5:], national=f"0{mobile[3:7]}+{mobile[7:]}")
    sign_in(api_client, "t.clerk")
    html = api_client.get(f"/console/queue?{query}").text
    shown = ids_in(html)
    assert sorted(shown) == sorted(cases[name].id for name in expected), query
    if not expected:
        assert "No open handovers match these filters" in html


def test_search_by_nhs_number_with_spaces(api_client, cases, db_session):
    from api.patients.models import Patient

    patient = db_session.get(Patient, cases["normal"].patient_id)
    spaced = f"{patient.nhs_number[:3]} {patient.nhs_number[3:6]} {patient.nhs_number[6:]}"
    sign_in(api_client, "t.clerk")
    assert ids_in(api_client.get("/console/queue", params={"q": spaced}).text) == \
        [cases["normal"].id]


def test_the_form_is_a_shareable_get_form_and_the_live_update_keeps_it(api_client, cases):
    sign_in(api_client, "t.clerk")
    html = api_client.get("/console/queue?urgent=1&type=red_flag&q=chest").text
    form = html[html.index('<form method="get" action="/console/queue"'):]
    form = form[:form.index("</form>")]
    for name in ("mine", "urgent", "overdue", "type", "q"):
        assert f'name="{name}"' in form
        assert re.search(rf'<label for="f-{"q" if name == "q" else name}"', form) or \
            name == "type"
    assert 'id="f-urgent" name="urgent" value="1" checked' in form
    assert 'value="chest"' in form and 'value="red_flag" selected' in form
    rows_url = unescape(re.search(r'data-rows-url="([^"]+)"', html).group(1))
    assert rows_url == "/console/queue/rows?urgent=1&type=red_flag&q=chest"
    rows = api_client.get(rows_url).text
    assert ids_in(rows) == [cases["red_flag"].id]
    # Unfiltered, the live update fetches every row.
    plain = api_client.get("/console/queue").text
    assert 'data-rows-url="/console/queue/rows"' in plain


def test_a_search_is_audited_with_what_was_searched(api_client, cases, db_session):
    sign_in(api_client, "t.clerk")
    api_client.get("/console/queue", params={"q": "priya shah", "urgent": ""})
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "search_queue")
                               .order_by(AuditEvent.id.desc())).first()
    assert event is not None and event.actor.startswith("staff:")
    assert event.details["search"] == "priya shah"
    assert event.details["patient_ids"] == [cases["normal"].patient_id]
    api_client.get("/console/queue")
    last = db_session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert last.action == "view_queue" and "search" not in last.details


def test_a_full_queue_page_says_how_many_more_there_are(api_client, desk, db_session,
                                                        monkeypatch):
    from api.console import service as console_service

    monkeypatch.setattr(console_service, "QUEUE_PAGE_ROWS", 2)
    for n in range(3):
        desk.patient_case(text=f"case number {n}")
    db_session.flush()
    sign_in(api_client, "t.clerk")
    page = api_client.get("/console/queue")
    assert page.text.count("data-handover-id=") == 2
    assert "Showing the 2 most pressing of 3 open handovers" in page.text
    narrowed = api_client.get("/console/queue", params={"q": "case number 1"})
    assert narrowed.text.count("data-handover-id=") == 1 and "most pressing" not in narrowed.text
