from api.messaging.render import (
    is_gsm7,
    numbered_choices,
    render_sms,
    render_whatsapp,
    sms_segments,
    to_gsm7,
)

CHOICES = [{"title": "Tue 16 Jan, 2:30pm", "payload": "1"},
           {"title": "Wed 17 Jan, 9:00am", "payload": "2"},
           {"title": "Fri 19 Jan, 11:15am", "payload": "3"},
           {"title": "Mon 22 Jan, 10:00am", "payload": "4"}]


def test_curly_quotes_dashes_and_emoji_become_gsm7():
    text = to_gsm7("It\u2019s \u201cfine\u201d \u2014 see you soon \U0001F600\u2026")
    assert text == 'It\'s "fine" - see you soon ...'
    assert is_gsm7(text)


def test_segments_follow_the_encoding():
    assert sms_segments("a" * 160) == 1
    assert sms_segments("a" * 161) == 2
    assert sms_segments("a" * 306) == 2
    assert sms_segments("\u00e9" * 160) == 1  # é is in GSM-7
    assert sms_segments("\u0105" * 70) == 1  # ą is not: UCS-2
    assert sms_segments("\u0105" * 71) == 2
    assert sms_segments("[" * 80) == 1 and sms_segments("[" * 81) == 2  # extension chars cost 2


def test_sms_choices_are_numbered_lines():
    body = render_sms("These are free:", CHOICES[:3])
    assert body.splitlines()[1:] == ["1. Tue 16 Jan, 2:30pm", "2. Wed 17 Jan, 9:00am",
                                     "3. Fri 19 Jan, 11:15am", "Reply 1, 2 or 3."]


def test_whatsapp_keeps_up_to_three_buttons_and_numbers_more():
    assert render_whatsapp("Pick:", CHOICES[:3]) == ("Pick:", CHOICES[:3])
    body, buttons = render_whatsapp("Pick:", CHOICES)
    assert buttons == [] and numbered_choices(CHOICES) in body


def test_long_sms_warns(caplog):
    render_sms("word " * 120)
    assert any("long SMS" in r.message for r in caplog.records)
