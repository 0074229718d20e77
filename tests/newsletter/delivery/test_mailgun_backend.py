"""newsletter.backends.mailgun.EmailBackend sends exactly the request anymail's stock Mailgun
backend sends (same fields, same recipient-variables, same per-recipient headers, byte for byte)
and reads the same anymail_status, for the batch messages newsletter.sending builds and for
messages its fast paths do not cover (display names, lazy strings, attachments).

Only the ESP's HTTP API is faked: `requests.Session.request` prepares the request exactly as
requests would (so the captured body is what goes on the wire) and answers like Mailgun. The
end-to-end test uses the real sending pipeline against the local Mailgun emulator."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, quote_plus

import pytest
import requests
from anymail import utils as anymail_utils
from anymail.message import AnymailMessage
from anymail.signals import pre_send
from anymail.utils import parse_address_list
from django.core.mail import get_connection
from django.utils.functional import lazy
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from requests.models import RequestEncodingMixin

from bench.esp_emulator import Emulator
from newsletter.backends import mailgun as fast
from newsletter.delivery import dispatch, esp
from newsletter.delivery.models import Delivery
from newsletter.email.message import LIST_UNSUBSCRIBE_POST
from newsletter.subscribers import token_links
from newsletter.subscribers.models import Subscriber
from tests.integration.helpers import make_digest, make_subscribers

STOCK = "anymail.backends.mailgun.EmailBackend"
OURS = "newsletter.backends.mailgun.EmailBackend"
API_URL = "https://api.mailgun.test/v3"
FROM = "النشرة الإخبارية <newsletter@example.com>"


@pytest.fixture
def mailgun_settings(settings):
    settings.ANYMAIL = {"MAILGUN_API_KEY": "key-test", "MAILGUN_API_URL": API_URL}
    return settings


class FakeMailgun:
    """Stands in for Mailgun's HTTP API: records each prepared request, answers 'Queued'."""

    def __init__(self) -> None:
        self.requests: list[requests.PreparedRequest] = []
        self.data_args: list[Any] = []

    def __call__(self, session: requests.Session, method: str, url: str, **kwargs: Any) -> requests.Response:
        request = requests.Request(
            method,
            url,
            params=kwargs.get("params"),
            data=kwargs.get("data"),
            headers=kwargs.get("headers"),
            files=kwargs.get("files"),
            auth=kwargs.get("auth"),
        )
        prepared = session.prepare_request(request)
        self.requests.append(prepared)
        self.data_args.append(kwargs.get("data"))
        response = requests.Response()
        response.status_code = 200
        response._content = json.dumps(
            {"id": f"<20300101.{len(self.requests)}@example.com>", "message": "Queued. Thank you."}
        ).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = prepared.url or url
        response.request = prepared
        return response

    def install(self, patch: pytest.MonkeyPatch) -> None:
        def request(session: requests.Session, method: str, url: str, **kwargs: Any) -> requests.Response:
            return self(session, method, url, **kwargs)

        patch.setattr(requests.Session, "request", request)


@pytest.fixture
def fake_mailgun(monkeypatch: pytest.MonkeyPatch) -> FakeMailgun:
    fake = FakeMailgun()
    fake.install(monkeypatch)
    return fake


@pytest.fixture
def stock_to_parses(monkeypatch: pytest.MonkeyPatch) -> list[list[Any]]:
    """The `to` lists our backend handed to anymail's own parser (its fallback): the real
    parser, counted. (The stock backend holds its own reference and is not counted.)"""
    calls: list[list[Any]] = []
    real = anymail_utils.parse_address_list

    def counting(addresses: Any, field: str | None = None) -> Any:
        if field == "to":
            calls.append([str(a) for a in addresses])
        return real(addresses, field=field)

    monkeypatch.setattr(fast, "parse_address_list", counting)
    return calls


def batch_message(to: list[Any], *, merge_headers: bool = False, **extra: Any) -> AnymailMessage:
    """A batch call shaped like newsletter.delivery.transport._send_one_call builds it for Mailgun
    (List-Unsubscribe names the unsubscribe_url variable), or with anymail's per-recipient
    merge_headers (`merge_headers`: how other ESPs get it)."""
    unsubscribe = {
        str(address): f"https://news.example.com/newsletter/u/tok{n}:1uXyZ:{'q' * 43}/" for n, address in enumerate(to)
    }
    headers = {"List-Unsubscribe-Post": LIST_UNSUBSCRIBE_POST}
    if not merge_headers:
        headers["List-Unsubscribe"] = "<%recipient.unsubscribe_url%>"
    message = AnymailMessage(
        subject="الأكثر قراءة اليوم",
        body="نص النشرة: %recipient.unsubscribe_url%\nإلغاء الاشتراك",
        from_email=FROM,
        to=to,
        headers=headers,
        **extra,
    )
    message.attach_alternative(
        '<html dir="rtl"><body><p>خبر عاجل &amp; "مهم" + 100%</p>'
        '<a href="%recipient.unsubscribe_url%">إلغاء</a></body></html>',
        "text/html",
    )
    keys = [parse_address_list([str(a)])[0].addr_spec for a in to]
    message.merge_data = {
        key: {"unsubscribe_url": unsubscribe[str(a)], "preferences_url": unsubscribe[str(a)].replace("/u/", "/p/")}
        for key, a in zip(keys, to, strict=True)
    }
    message.merge_global_data = {}
    if merge_headers:
        message.merge_headers = {
            key: {"List-Unsubscribe": f"<{unsubscribe[str(a)]}>"} for key, a in zip(keys, to, strict=True)
        }
    message.metadata = {"digest_id": "42"}
    message.merge_metadata = {
        key: {"delivery_id": str(1000 + n), "subscriber_id": str(n)} for n, key in enumerate(keys)
    }
    message.tags = ["digest", "daily"]
    return message


def send_with(backend: str, message: AnymailMessage) -> None:
    connection = get_connection(backend)
    connection.open()
    try:
        message.connection = connection
        message.send()
    finally:
        connection.close()


def status_summary(message: AnymailMessage) -> tuple[Any, ...]:
    status = message.anymail_status
    return (
        status.status,
        status.message_id,
        {email: (s.status, s.message_id) for email, s in status.recipients.items()},
    )


def compare(make: Any, fake: FakeMailgun) -> tuple[requests.PreparedRequest, requests.PreparedRequest]:
    """Send make() through the stock backend, then through ours; both requests must be equal."""
    stock_message, our_message = make(), make()
    send_with(STOCK, stock_message)
    send_with(OURS, our_message)
    stock, ours = fake.requests[-2], fake.requests[-1]
    assert (ours.method, ours.url) == (stock.method, stock.url)
    for header in ("Authorization", "Content-Type", "Content-Length", "User-Agent"):
        assert ours.headers.get(header) == stock.headers.get(header), header
    assert ours.body == stock.body  # same fields, same order, same escaping
    # Mailgun (and the emulator) read the decoded form: compare it too, for a readable failure.
    if isinstance(stock.body, str):
        assert parse_qs(ours.body, keep_blank_values=True) == parse_qs(stock.body, keep_blank_values=True)
    # Both report the same per-recipient status; message ids differ only by the fake's counter.
    stock_status, our_status = status_summary(stock_message), status_summary(our_message)
    assert our_status[0] == stock_status[0]
    assert {e: s for e, (s, _) in our_status[2].items()} == {e: s for e, (s, _) in stock_status[2].items()}
    return stock, ours


def test_sending_batch_request_equals_anymail_stock(mailgun_settings, fake_mailgun) -> None:
    to = [f"reader{n}@example.com" for n in range(5)] + ["First.Last+news@Sub-Domain.Example.org", "o'neil_~x@a.io"]
    stock, ours = compare(lambda: batch_message(to), fake_mailgun)
    # The fast paths were taken: our backend handed requests an encoded string, not the dict.
    assert isinstance(fake_mailgun.data_args[-1], str) and isinstance(fake_mailgun.data_args[-2], dict)
    fields = parse_qs(ours.body, keep_blank_values=True)
    assert fields["to"] == to
    # Each reader's List-Unsubscribe is Mailgun's substitution of their unsubscribe_url: the URL
    # travels once per recipient, not twice (a tenth of the form, bench/README.md).
    assert fields["h:List-Unsubscribe"] == ["<%recipient.unsubscribe_url%>"]
    assert fields["h:List-Unsubscribe-Post"] == ["List-Unsubscribe=One-Click"]
    assert fields["o:tag"] == ["digest", "daily"]
    assert fields["v:digest_id"] == ["42"] and fields["v:delivery_id"] == ["%recipient.v:delivery_id%"]
    variables = json.loads(fields["recipient-variables"][0])
    assert set(variables) == set(to)
    assert variables[to[5]]["unsubscribe_url"].startswith("https://news.example.com/newsletter/u/tok5:")
    assert "h:List-Unsubscribe" not in variables[to[5]]
    assert variables[to[5]]["v:delivery_id"] == "1005"
    assert ours.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_per_recipient_merge_headers_request_equals_anymail_stock(mailgun_settings, fake_mailgun) -> None:
    to = [f"reader{n}@example.com" for n in range(5)]
    _stock, ours = compare(lambda: batch_message(to, merge_headers=True), fake_mailgun)
    fields = parse_qs(ours.body, keep_blank_values=True)
    assert fields["h:List-Unsubscribe"] == ["%recipient.h:List-Unsubscribe%"]
    variables = json.loads(fields["recipient-variables"][0])
    assert variables[to[3]]["h:List-Unsubscribe"].startswith("<https://news.example.com/newsletter/u/tok3:")


def test_recipient_status_is_keyed_like_anymail(mailgun_settings, fake_mailgun) -> None:
    to = ["a@example.com", "B.Upper@Example.com"]
    message = batch_message(to)
    send_with(OURS, message)
    recipients = message.anymail_status.recipients
    assert set(recipients) == set(to)
    assert {s.status for s in recipients.values()} == {"queued"}
    assert message.anymail_status.message_id == "<20300101.1@example.com>"


@pytest.mark.parametrize(
    "to",
    [
        pytest.param(['"Ali, Co." <ali@example.com>', "plain@example.com"], id="display-name"),
        pytest.param(["علي <ali@example.com>", "plain@example.com"], id="arabic-display-name"),
        pytest.param(["plain@example.com", "user@bücher.example"], id="idn-domain"),
        pytest.param(['"quoted local"@example.com'], id="quoted-local-part"),
        pytest.param(["a@example.com, b@example.com"], id="comma-list-in-one-string"),
        pytest.param(["user@[127.0.0.1]"], id="domain-literal"),
    ],
)
def test_unusual_recipients_fall_back_to_anymail_and_match(mailgun_settings, fake_mailgun, stock_to_parses, to) -> None:
    compare(lambda: batch_message(to), fake_mailgun)
    assert stock_to_parses == [[str(a) for a in to]]  # ours fell back to anymail's parser


def test_lazy_recipient_falls_back(mailgun_settings, fake_mailgun, stock_to_parses) -> None:
    lazy_address = lazy(lambda: "lazy@example.com", str)
    compare(lambda: batch_message([lazy_address(), "plain@example.com"]), fake_mailgun)
    assert stock_to_parses == [["lazy@example.com", "plain@example.com"]]  # ours fell back


def test_plain_recipients_take_the_fast_path(mailgun_settings, fake_mailgun, stock_to_parses) -> None:
    to = ["a@example.com", "b.c+d@example.org"]
    compare(lambda: batch_message(to), fake_mailgun)
    assert stock_to_parses == []  # ours never needed anymail's parser


def test_attachment_is_left_to_requests_multipart(mailgun_settings, fake_mailgun) -> None:
    def make() -> AnymailMessage:
        message = batch_message(["a@example.com", "b@example.com"])
        message.attach("ملف.txt", "محتوى", "text/plain")
        return message

    stock_message, our_message = make(), make()
    send_with(STOCK, stock_message)
    send_with(OURS, our_message)
    stock, ours = fake_mailgun.requests
    assert ours.headers["Content-Type"].startswith("multipart/form-data")
    assert isinstance(fake_mailgun.data_args[-1], dict)  # requests encoded it, as for stock
    # Same parts; only the random boundary differs.
    boundary = lambda prepared: prepared.headers["Content-Type"].split("boundary=")[1].encode()  # noqa: E731
    assert ours.body.replace(boundary(ours), b"B") == stock.body.replace(boundary(stock), b"B")


def test_non_string_metadata_is_left_to_requests(mailgun_settings, fake_mailgun) -> None:
    def make() -> AnymailMessage:
        message = batch_message(["a@example.com"])
        message.metadata = {"digest_id": 42, "ratio": 0.5}
        return message

    compare(make, fake_mailgun)
    assert isinstance(fake_mailgun.data_args[-1], dict)


def test_lazy_merge_values_are_forced_as_anymail_forces_them(mailgun_settings, fake_mailgun) -> None:
    lazy_text = lazy(lambda: "مرحبا", str)

    def make() -> AnymailMessage:
        message = batch_message(["a@example.com", "b@example.com"])
        message.merge_data["a@example.com"]["name"] = lazy_text()
        message.merge_metadata["b@example.com"]["note"] = lazy_text()
        return message

    _stock, ours = compare(make, fake_mailgun)
    variables = json.loads(parse_qs(ours.body)["recipient-variables"][0])
    assert variables["a@example.com"]["name"] == "مرحبا" and variables["b@example.com"]["v:note"] == "مرحبا"


# --- the helpers, against what they replace ----------------------------------------------------

merge_value = st.one_of(st.text(), st.builds(lazy(lambda text: text, str), st.text()), st.integers())


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(), st.dictionaries(st.text(), merge_value, max_size=4), max_size=4))
def test_plain_merge_dict_equals_force_non_lazy_dict(data: dict[str, dict[str, Any]]) -> None:
    expected = anymail_utils.force_non_lazy_dict(data)
    got = fast.plain_merge_dict(data)
    assert got == expected
    assert all(type(v) is not type(lazy(str, str)()) for values in got.values() for v in values.values())


form_value = st.one_of(st.none(), st.text(), st.binary(), st.lists(st.one_of(st.none(), st.text()), max_size=3))


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(min_size=1), form_value, max_size=6))
def test_urlencode_form_equals_requests(data: dict[str, Any]) -> None:
    assert fast.urlencode_form(data) == RequestEncodingMixin._encode_params(data)


@hypothesis_settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(st.characters(max_codepoint=127)), st.binary(), st.text()))
def test_quote_plus_equals_urllib_for_ascii_and_the_rest(value: str | bytes) -> None:
    # ASCII values take the replace-per-character path, the others one translate.
    assert fast._quote_plus(value) == quote_plus(value, safe="")


def test_quote_plus_of_a_readers_variables_escapes_percent_first_and_plus_before_spaces() -> None:
    value = json.dumps({"r@example.com": {"u": "https://x.example/u/a+b%20c/?q=1&n=2", "name": "A B"}})
    assert fast._quote_plus(value) == quote_plus(value, safe="")
    assert "%2520" in fast._quote_plus(value) and "%2B" in fast._quote_plus(value)


@pytest.mark.parametrize("data", [{1: "a"}, {"a": 1}, {"a": {"b": "c"}}, {"a": ["x", 2]}, {"a": 0.5}])
def test_urlencode_form_leaves_other_types_to_requests(data: dict[Any, Any]) -> None:
    assert fast.urlencode_form(data) is None


@hypothesis_settings(max_examples=500, deadline=None)
@given(st.from_regex(fast._PLAIN_ADDRESS, fullmatch=True))
def test_plain_address_equals_anymail_parse(address: str) -> None:
    [expected] = parse_address_list([address], field="to")
    [ours] = fast.parse_plain_addresses([address], field="to")
    assert isinstance(ours, fast.PlainAddress)
    assert ours == expected
    assert (ours.display_name, ours.username, ours.domain) == (
        expected.display_name,
        expected.username,
        expected.domain,
    )
    assert ours.addr_spec == expected.addr_spec == address
    assert ours.address == expected.address
    assert str(ours) == str(expected)
    for use_rfc2047 in (False, True, "force"):
        assert ours.format(use_rfc2047=use_rfc2047, idna_encode=str.upper) == expected.format(
            use_rfc2047=use_rfc2047, idna_encode=str.upper
        )


@pytest.mark.parametrize(
    "address",
    [
        "a..b@example.com",
        ".a@example.com",
        "a@-example.com",
        "a@example..com",
        "عربي@example.com",
        "a@b@c.com",
        "a b@example.com",
        "a@example.com ",
    ],
)
def test_not_plain_addresses_are_parsed_by_anymail(address: str) -> None:
    assert not fast._PLAIN_ADDRESS.fullmatch(address)


# --- end to end: the sending pipeline with this backend, through the emulator -----------------


@pytest.mark.django_db
def test_sending_pipeline_through_emulator_sends_what_stock_would(settings) -> None:
    server = Emulator().start()
    settings.EMAIL_BACKEND = OURS
    settings.ANYMAIL = {"MAILGUN_API_KEY": "test-key", "MAILGUN_API_URL": server.api_url, "REQUESTS_TIMEOUT": (2, 5)}
    assert esp.current_profile().name == "mailgun" and esp.current_profile().batches_api_calls
    sent_messages: list[AnymailMessage] = []
    bodies: list[Any] = []
    real_request = requests.Session.request

    def spy(session: requests.Session, method: str, url: str, **kwargs: Any) -> requests.Response:
        bodies.append(kwargs.get("data"))
        return real_request(session, method, url, **kwargs)

    def on_pre_send(sender: Any, message: AnymailMessage, **kwargs: Any) -> None:
        sent_messages.append(message)

    pre_send.connect(on_pre_send, weak=False)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(requests.Session, "request", spy)
            digest = make_digest()
            ids = make_subscribers(25)
            report = dispatch.send_all_sync(digest_id=digest.id)
    finally:
        pre_send.disconnect(on_pre_send)
        server.stop()
    assert (report.sent, report.failed, report.unknown) == (25, 0, 0)
    stats = server.state.stats()
    assert stats["accepted_requests"] == 1 and stats["unique"] == 25 and stats["duplicates"] == 0
    records = {r["to"]: r for r in server.state.records}
    for subscriber in Subscriber.objects.filter(id__in=ids):
        record = records[subscriber.email]
        url = token_links.unsubscribe_url(subscriber.uuid)
        assert record["list_unsubscribe"] == f"<{url}>"
        assert record["url_in_text"] and record["url_in_html"]
        delivery = Delivery.objects.get(digest=digest, subscriber=subscriber)
        assert record["metadata"]["delivery_id"] == str(delivery.id)
        assert delivery.esp_message_id == record["message_id"]
    # The request our backend put on the wire is the one anymail's stock backend builds for the
    # very message sending.py made.
    [message] = sent_messages
    [body] = bodies
    assert isinstance(body, str)
    fake = FakeMailgun()
    with pytest.MonkeyPatch.context() as patch:
        fake.install(patch)
        send_with(STOCK, message)
    assert fake.requests[0].body == body
