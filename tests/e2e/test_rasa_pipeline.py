"""End to end through the real stack: trained model, Rasa server, action server, REST channel."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.e2e.rasa_stack import ASSISTANT_TOKEN, REPO_ROOT, RasaStack, start_stack

pytestmark = pytest.mark.rasa

# Not the default trust name: seeing it in a reply proves the greeting came from the action
# server, reading the app's settings, and not from a canned response in the domain.
TEST_TRUST_NAME = "Testshire Hospitals NHS Foundation Trust"


def domain_texts(response: str) -> set[str]:
    """Every text variant of a response, wherever in bot/domain/ it is defined."""
    texts: set[str] = set()
    for path in sorted((REPO_ROOT / "bot" / "domain").glob("*.yml")):
        responses = (yaml.safe_load(path.read_text()) or {}).get("responses") or {}
        texts.update(variant["text"] for variant in responses.get(response, []))
    assert texts, f"{response} is not defined in bot/domain/"
    return texts


@pytest.fixture(scope="session")
def rasa_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaStack]:
    log_dir: Path = tmp_path_factory.mktemp("rasa-stack")
    env = dict(os.environ, TRUST_NAME=TEST_TRUST_NAME)
    with start_stack(log_dir=log_dir, env=env) as stack:
        from tests.conftest import SUITE_LOG_FILES

        # Both servers' output is scanned for personal data at the end of the run.
        SUITE_LOG_FILES.extend([stack.rasa.log_path, stack.actions.log_path])
        yield stack


def new_sender() -> str:
    """A fresh pseudonymous conversation id, as the worker would send."""
    return uuid.uuid4().hex


def reply_texts(replies: list[dict]) -> list[str]:
    return [reply["text"] for reply in replies if "text" in reply]


def test_greeting_comes_from_the_action_server_with_the_trust_name(rasa_stack: RasaStack):
    texts = reply_texts(rasa_stack.send(sender=new_sender(), text="hiya"))

    assert len(texts) == 1, texts
    assert TEST_TRUST_NAME in texts[0]


def test_rasa_and_the_action_server_answer_only_with_the_assistant_token(rasa_stack: RasaStack):
    import httpx

    turn = {"sender": new_sender(), "message": "hiya"}
    assert httpx.post(f"{rasa_stack.rasa_url}/webhooks/rest/webhook", json=turn,
                      timeout=30).status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert httpx.post(f"{rasa_stack.rasa_url}/webhooks/rest/webhook", json=turn, headers=wrong,
                      timeout=30).status_code == 401
    # Rasa's HTTP API (model replacement, tracker editing) is not served at all.
    assert httpx.get(f"{rasa_stack.rasa_url}/status", timeout=5).status_code == 404
    assert httpx.get(f"{rasa_stack.rasa_url}/webhooks/rest/ready", timeout=5).status_code == 200
    action = {"next_action": "action_show_status", "sender_id": turn["sender"],
              "tracker": {"sender_id": turn["sender"], "slots": {}, "events": [],
                          "latest_message": {}}, "domain": {}}
    assert httpx.post(f"{rasa_stack.action_server_url}/webhook", json=action,
                      timeout=10).status_code == 401


def test_goodbye(rasa_stack: RasaStack):
    texts = reply_texts(rasa_stack.send(sender=new_sender(), text="ok ta bye"))

    assert texts and set(texts) <= domain_texts("utter_goodbye"), texts


def test_gibberish_is_asked_to_rephrase(rasa_stack: RasaStack):
    texts = reply_texts(rasa_stack.send(sender=new_sender(), text="asdfgh qwerty"))

    assert texts and set(texts) <= domain_texts("utter_default"), texts


def test_conversation_state_is_kept_per_sender(rasa_stack: RasaStack):
    sender = new_sender()

    assert set(reply_texts(rasa_stack.send(sender=sender, text="thx"))) <= domain_texts(
        "utter_you_are_welcome"
    )
    # "nah" only means "goodbye" because the bot just asked "anything else?".
    texts = reply_texts(rasa_stack.send(sender=sender, text="nah im ok"))
    assert texts and set(texts) <= domain_texts("utter_goodbye"), texts


def test_signed_webhook_to_worker_to_trained_model_to_outbox(
        rasa_stack: RasaStack, live_client, live_settings, live_session_factory):
    """The whole inbound path: Twilio's signed POST, the worker, Rasa, the action server."""
    from sqlalchemy import select

    from api.conversations.rasa_client import RasaClient
    from api.messaging.models import Direction, Message, MessageCategory
    from api.worker import Worker
    from tests.twilio_helpers import inbound_form, post_signed

    patient = "+447700900901"
    assert post_signed(live_client, inbound_form(from_=patient, body="hiya")).status_code == 200
    rasa = RasaClient(base_url=rasa_stack.rasa_url, timeout=10, token=ASSISTANT_TOKEN)
    Worker(settings=live_settings, session_factory=live_session_factory, rasa=rasa).drain()
    with live_session_factory() as session:
        [reply] = session.scalars(select(Message).where(
            Message.direction == Direction.OUTBOUND, Message.to_address == patient)).all()
    assert reply.category is MessageCategory.REPLY
    assert TEST_TRUST_NAME in reply.body
