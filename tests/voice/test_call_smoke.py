from api.conversations.rasa_client import AssistantReply
from tests.conversations.helpers import echo_worker
from tests.factories import make_patient
from tests.voice.calling import Phone, WorkerThread


class Scripted:
    def send(self, *, sender_id, text, metadata=None):
        return [AssistantReply(text=f"You said {text}. Reply YES to confirm.")]


def test_smoke(live_client, live_settings, live_session_factory):
    with live_session_factory() as session:
        make_patient(session, mobile="+447700900001")
        session.commit()
    phone = Phone(live_client)
    turn = phone.ring()
    print(turn.raw)
    turn = phone.press("03071958")
    print(turn.raw)
    with WorkerThread(echo_worker(live_settings, live_session_factory, Scripted())):
        turn = phone.say("why was my appointment moved")
    print(turn.raw)
    turn = phone.press("0")
    print(turn.raw)
    phone.hang_up()
