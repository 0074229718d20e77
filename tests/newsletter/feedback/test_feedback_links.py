"""Issue 27, "more / less like this": each story of a sent digest carries the two links; the GET
shows the question and records nothing (a scanner burst, a bot or a HEAD changes nothing), the
page's one button records the choice for that story's section and tags, the thank-you page
undoes it; forged, spliced (another reader's), expired (replayed) and preview links record
nothing and say so."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from newsletter.email.links import archive_url
from newsletter.subscribers import feedback
from newsletter.subscribers.models import LessLikeThis, StoryFeedback, Subscriber
from newsletter.subscribers.tokens import Purpose, make_token
from tests.newsletter.digest_helpers import subscriber
from tests.newsletter.feedback.sending import BROWSER, CLICK, MORNING

pytestmark = pytest.mark.django_db


def mine(sent) -> dict[tuple[int, str], str]:
    return sent["links"]["reader@example.com"]


def nothing_recorded() -> bool:
    return not StoryFeedback.objects.exists() and not LessLikeThis.objects.exists()


def test_each_story_carries_more_and_less_links_with_the_readers_own_click_token(sent, outbox) -> None:
    ids = {s.pk for s in sent["stories"]}
    for address in ("reader@example.com", "english@example.com"):
        links = sent["links"][address]
        assert set(links) == {(a, c) for a in ids for c in ("more", "less")}
        click_tokens = set(CLICK.findall(sent["html"][address]))
        assert len(click_tokens) == 1
        assert {path.rstrip("/").rsplit("/", 1)[1] for path in links.values()} == click_tokens
    assert "المزيد مثل هذا" in sent["html"]["reader@example.com"]
    assert "أقل من هذا" in sent["html"]["reader@example.com"]
    assert "More like this" in sent["html"]["english@example.com"]
    assert "Less like this" in sent["html"]["english@example.com"]
    text = [m.get_body(("plain",)).get_content() for m in outbox() if "reader@" in str(m["To"])][0]
    assert text.count("/f/") == 8 and "أقل من هذا: http" in text
    # The public archive copy has no reader, hence no feedback links.
    archive = Client().get(archive_url(sent["digest"]).removeprefix("http://testserver")).content.decode()
    assert sent["stories"][0].title in archive and "/f/" not in archive


def test_the_get_asks_and_one_tap_records_less_for_the_section_and_tags(sent) -> None:
    lead = sent["stories"][0]
    reader = sent["readers"]["ar"]
    path = mine(sent)[(lead.pk, "less")]
    client = Client(enforce_csrf_checks=True)

    page = client.get(path, HTTP_USER_AGENT=BROWSER)
    assert page.status_code == 200 and "تريد أقل من هذا الخبر؟" in page.content.decode()
    assert nothing_recorded()

    thanks = client.post(path, {"csrfmiddlewaretoken": page.cookies["csrftoken"].value}, HTTP_USER_AGENT=BROWSER)
    assert thanks.status_code == 200 and "شكرًا، سنعرض عليك أقل من هذا" in thanks.content.decode()
    assert list(StoryFeedback.objects.values_list("subscriber", "digest", "article", "choice")) == [
        (reader.pk, sent["digest"].pk, lead.pk, "less")
    ]
    marks = set(LessLikeThis.objects.values_list("kind", "target_id"))
    assert marks == {("section", lead.section_id), *{("tag", t.pk) for t in lead.tags.all()}}
    assert "تراجع" in thanks.content.decode()

    token = page.cookies["csrftoken"].value
    undone = client.post(path, {"action": "undo", "csrfmiddlewaretoken": token}, HTTP_USER_AGENT=BROWSER)
    assert undone.status_code == 200 and "ألغينا اختيارك" in undone.content.decode()
    assert nothing_recorded()


def test_more_lifts_the_less_of_its_section_and_tags_and_counts_once(sent) -> None:
    first, second = sent["stories"][:2]
    client = Client()
    client.post(mine(sent)[(first.pk, "less")], HTTP_USER_AGENT=BROWSER)
    assert LessLikeThis.objects.count() == 3  # the section and two tags
    client.post(mine(sent)[(second.pk, "more")], HTTP_USER_AGENT=BROWSER)
    client.post(mine(sent)[(second.pk, "more")], HTTP_USER_AGENT=BROWSER)  # the same again
    # "more" on a politics story tagged قمة بغداد lifts those two; النفط stays asked-for-less.
    assert list(LessLikeThis.objects.values_list("kind", flat=True)) == ["tag"]
    assert feedback.counts(digest_id=sent["digest"].pk) == {first.pk: (0, 1), second.pk: (1, 0)}


def test_a_reader_with_personal_order_off_is_told_the_choice_orders_nothing_yet(sent) -> None:
    Subscriber.objects.filter(email="reader@example.com").update(personal_order=False)
    page = Client().post(mine(sent)[(sent["stories"][0].pk, "less")], HTTP_USER_AGENT=BROWSER).content.decode()
    assert "ترتيب النشرة حسب ما تقرؤه متوقف لديك" in page
    assert StoryFeedback.objects.count() == 1  # kept: it orders their edition once they switch it on


def test_the_english_reader_gets_the_page_in_english(sent) -> None:
    path = sent["links"]["english@example.com"][(sent["stories"][1].pk, "more")]
    client = Client()
    assert "More like this story?" in client.get(path, HTTP_USER_AGENT=BROWSER).content.decode()
    assert "we will show you more like this" in client.post(path, HTTP_USER_AGENT=BROWSER).content.decode()


def test_a_scanner_burst_records_nothing(sent, time_machine) -> None:
    """A link scanner opens every link of the email seconds after delivery (HEAD, GET, with or
    without a product user agent) and even posts with a bot's: nothing is recorded."""
    time_machine.move_to(MORNING + timedelta(seconds=3), tick=False)
    scanner = Client()
    for path in mine(sent).values():
        assert scanner.head(path, HTTP_USER_AGENT=BROWSER).status_code == 200
        assert scanner.get(path, HTTP_USER_AGENT=BROWSER).status_code == 200
        assert scanner.get(path, HTTP_USER_AGENT="Mozilla/5.0 (compatible; Mimecast URL scanner)").status_code == 200
        scanner.post(path, HTTP_USER_AGENT="Mozilla/5.0 (compatible; bingbot/2.0)")
        scanner.post(path, HTTP_USER_AGENT=BROWSER, HTTP_SEC_PURPOSE="prefetch")
    assert nothing_recorded()


def tamper_story(path: str) -> str:
    return re.sub(r"k([0-9a-f])", lambda m: "k" + ("0" if m[1] != "0" else "1"), path, count=1)


def tamper_token(path: str) -> str:
    head, token = path.rstrip("/").rsplit("/", 1)
    return f"{head}/{token[:-1]}{'0' if token[-1] != '0' else '1'}/"


def with_token(path: str, token: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[0] + f"/{token}/"


@pytest.mark.parametrize(
    ("forge", "status", "says"),
    [
        (tamper_story, 404, "هذا الرابط غير صالح"),
        (tamper_token, 404, "هذا الرابط غير صالح"),
        (lambda p: p.replace("/less/", "/gone/"), 404, "هذا الرابط غير صالح"),
        (lambda p: re.sub(r"/f/e(\d+)a\d+", r"/f/e\1a99999", p), 404, "هذا الرابط غير صالح"),
        (lambda p: with_token(p, "garbage"), 404, "هذا الرابط غير صالح"),
    ],
)
def test_a_forged_link_records_nothing_and_says_so(sent, forge, status, says) -> None:
    path = forge(mine(sent)[(sent["stories"][0].pk, "less")])
    client = Client()
    for response in (client.get(path, HTTP_USER_AGENT=BROWSER), client.post(path, HTTP_USER_AGENT=BROWSER)):
        assert response.status_code == status and says in response.content.decode()
    assert nothing_recorded()


def test_another_purposes_token_or_another_readers_edition_records_nothing(sent) -> None:
    reader = sent["readers"]["ar"]
    path = mine(sent)[(sent["stories"][0].pk, "less")]
    stranger = subscriber("stranger@example.com")  # subscribed after the send: not sent this edition
    spliced = {
        with_token(path, make_token(reader.uuid, Purpose.UNSUBSCRIBE)): "هذا الرابط غير صالح",
        with_token(path, make_token(reader.uuid, Purpose.PREFERENCES)): "هذا الرابط غير صالح",
        with_token(path, make_token(stranger.uuid, Purpose.CLICK)): "لا يطابق عددًا أُرسل إلى صاحبه",
    }
    client = Client()
    for forged, says in spliced.items():
        for response in (client.get(forged, HTTP_USER_AGENT=BROWSER), client.post(forged, HTTP_USER_AGENT=BROWSER)):
            assert response.status_code == 404 and says in response.content.decode()
    assert nothing_recorded()


def test_an_erased_reader_or_a_preview_link_records_nothing(sent) -> None:
    path = mine(sent)[(sent["stories"][0].pk, "more")]
    preview = with_token(path, "preview")
    response = Client().post(preview, HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 200 and "معاينة" in response.content.decode()
    Subscriber.objects.filter(email="reader@example.com").delete()
    assert Client().post(path, HTTP_USER_AGENT=BROWSER).status_code == 404
    assert nothing_recorded()


def test_a_link_replayed_after_the_history_window_records_nothing(sent, settings, time_machine) -> None:
    settings.PERSONAL_HISTORY_DAYS = 30
    path = mine(sent)[(sent["stories"][0].pk, "less")]
    time_machine.move_to(MORNING + timedelta(days=31), tick=False)
    response = Client().post(path, HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 410 and "انتهت صلاحية الرابط" in response.content.decode()
    assert nothing_recorded()


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    story=st.one_of(
        st.text(max_size=80), st.from_regex(r"e[0-9]{1,14}a[0-9]{1,14}p[0-9]{1,5}k[0-9a-f]{32}", fullmatch=True)
    ),
    choice=st.one_of(st.sampled_from(["more", "less"]), st.text(max_size=10)),
    token=st.text(max_size=220),
    method=st.sampled_from(["get", "post", "head"]),
)
def test_any_feedback_path_never_500_and_records_nothing(sent, story, choice, token, method) -> None:
    path = f"/f/{quote(story, safe='') or 'x'}/{quote(choice, safe='') or 'x'}/{quote(token, safe='') or 'x'}/"
    response = getattr(Client(), method)(path, HTTP_USER_AGENT=BROWSER)
    assert response.status_code < 500, path
    assert nothing_recorded()
