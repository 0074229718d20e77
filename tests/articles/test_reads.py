"""Read counting (Redis only, zero SQL), what does not count, the beacon and the roll-up."""

from datetime import timedelta

import pytest
from django.test import Client, RequestFactory

from articles.content import published
from articles.reading import reads, rollup, visitors
from articles.reading.models import ArticleDailyStats
from sitewide.redis_client import get_redis
from tests.concurrency import run_concurrently

BROWSER = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36"


def day_counts(article_id: int) -> tuple[int, int]:
    client = get_redis()
    views = int(client.hget(reads.views_key(reads.today()), str(article_id)) or 0)
    return views, client.pfcount(reads.readers_key(reads.today(), article_id))


@pytest.mark.django_db
def test_counting_runs_zero_sql_in_one_pipeline(make_article, django_assert_num_queries) -> None:
    article = make_article()
    request = RequestFactory().get("/", HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="10.0.0.1")
    visitors.identify_request(request)  # the daily salt is fetched once per process; not part of a read
    with django_assert_num_queries(0):
        assert reads.count_request(request, article.pk)
    assert day_counts(article.pk) == (1, 1)
    ttl = get_redis().ttl(reads.readers_key(reads.today(), article.pk))
    assert 0 < ttl <= reads.key_ttl_seconds()


@pytest.mark.django_db
def test_beacon_runs_zero_sql(make_article, django_assert_num_queries) -> None:
    article = make_article()
    client = Client(HTTP_USER_AGENT=BROWSER)
    client.get("/r/", {"id": 999999})  # warm the salt
    with django_assert_num_queries(0):
        response = client.post("/r/", data=str(article.pk), content_type="text/plain;charset=UTF-8")
    assert response.status_code == 204
    with django_assert_num_queries(0):
        response = client.get("/r/", {"url": f"http://testserver{article.get_absolute_url()}"})
    assert response.status_code == 200 and response["Content-Type"] == "image/gif"
    assert day_counts(article.pk)[0] == 2


@pytest.mark.django_db
def test_beacon_by_canonical_url_and_bad_input(make_article) -> None:
    article = make_article(canonical_url="https://cms.example.com/news/خبر-عاجل")
    client = Client(HTTP_USER_AGENT=BROWSER)
    encoded = "https://CMS.example.com/news/%D8%AE%D8%A8%D8%B1-%D8%B9%D8%A7%D8%AC%D9%84/?utm=x"
    assert client.post("/r/", data=f"url={encoded}", content_type="text/plain").status_code == 204
    assert day_counts(article.pk)[0] == 1
    draft = make_article(status="draft", published_at=None)
    cases = [
        ("post", "999999", 404),
        ("post", str(draft.pk), 404),
        ("post", "id=12abc", 400),
        ("post", "id=-5", 400),
        ("post", "javascript:alert(1)", 400),
        ("post", "https://elsewhere.example.com/x", 404),
        ("post", "", 400),
        ("post", "9" * 40, 400),
        ("post", b"\xff\xfe\xfa", 400),
        ("post", "x" * 5000, 413),
        ("get", {"id": "0"}, 404),
        ("get", {}, 400),
    ]
    for method, payload, status in cases:
        if method == "post":
            response = client.post("/r/", data=payload, content_type="text/plain")
        else:
            response = client.get("/r/", payload)
        assert response.status_code == status, payload
    assert client.put("/r/", data="1").status_code == 405
    assert day_counts(article.pk)[0] == 1
    assert day_counts(draft.pk)[0] == 0
    assert not any(k.startswith(b"reads:u:") and k.endswith(b":999999") for k in get_redis().keys())


@pytest.mark.django_db
def test_repeat_reader_bots_prefetch_and_head_do_not_add_readers(make_article) -> None:
    article = make_article()
    url = article.get_absolute_url()
    reader = Client(HTTP_USER_AGENT=BROWSER)
    assert reader.get(url).status_code == 200
    assert visitors.VISITOR_COOKIE in reader.cookies
    reader.get(url)
    reader.get(url)
    assert day_counts(article.pk) == (3, 1)  # three views, one reader
    for ua in [
        "Googlebot/2.1 (+http://www.google.com/bot.html)",
        "facebookexternalhit/1.1",
        "WhatsApp/2.23",
        "TelegramBot (like TwitterBot)",
        "Slackbot-LinkExpanding 1.0",
        "curl/8.0",
        "",
    ]:
        assert Client(HTTP_USER_AGENT=ua).get(url).status_code == 200
    for headers in [
        {"HTTP_SEC_PURPOSE": "prefetch"},
        {"HTTP_SEC_PURPOSE": "prefetch;prerender"},
        {"HTTP_PURPOSE": "prefetch"},
        {"HTTP_X_MOZ": "prefetch"},
    ]:
        assert Client(HTTP_USER_AGENT=BROWSER, **headers).get(url).status_code == 200
    assert Client(HTTP_USER_AGENT=BROWSER).head(url).status_code == 200
    assert day_counts(article.pk) == (3, 1)
    Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="10.9.9.9").get(url)
    assert day_counts(article.pk) == (4, 2)


@pytest.mark.django_db
def test_cookieless_reader_is_one_reader_and_no_ip_is_stored(make_article) -> None:
    article = make_article()
    for _ in range(3):
        Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.77").get(article.get_absolute_url())
    assert day_counts(article.pk) == (3, 1)
    client = get_redis()
    for key in client.keys():
        dump = client.dump(key) or b""
        assert b"203.0.113.77" not in key and b"203.0.113.77" not in dump


@pytest.mark.django_db
def test_staff_preview_is_not_counted(make_article, admin_client: Client) -> None:
    article = make_article()
    draft = make_article(status="draft", published_at=None)
    assert admin_client.get(article.get_absolute_url()).status_code == 200
    assert admin_client.get(draft.get_absolute_url()).status_code == 200
    assert Client().get(draft.get_absolute_url()).status_code == 404
    assert day_counts(article.pk) == (0, 0) and day_counts(draft.pk) == (0, 0)


def _read(article_id: int, visitors: int, *, views_each: int = 1, day=None) -> None:
    for n in range(visitors):
        for _ in range(views_each):
            reads.record_read(article_id, f"visitor-{n}", day=day)


@pytest.mark.django_db
def test_flush_is_idempotent_when_run_twice(make_article) -> None:
    a, b = make_article(), make_article()
    _read(a.pk, 5, views_each=2)
    _read(b.pk, 3)
    yesterday = reads.today() - timedelta(days=1)
    _read(a.pk, 2, day=yesterday)
    assert rollup.flush_to_database() == 3
    assert rollup.flush_to_database() == 3
    rows = {(s.article_id, s.day): (s.views, s.readers) for s in ArticleDailyStats.objects.all()}
    assert rows == {(a.pk, reads.today()): (10, 5), (b.pk, reads.today()): (3, 3), (a.pk, yesterday): (2, 2)}
    _read(b.pk, 4)  # one new reader, one new view each for the first three
    rollup.flush_to_database()
    assert ArticleDailyStats.objects.get(article=b, day=reads.today()).views == 7
    assert ArticleDailyStats.objects.get(article=b, day=reads.today()).readers == 4


@pytest.mark.django_db(transaction=True)
def test_flush_is_idempotent_when_run_concurrently(make_article) -> None:
    """Four flushes at once. On PostgreSQL they overlap; on SQLite the database lock serialises
    them, so there this proves only that repeated flushes do not double-count."""
    articles = [make_article() for _ in range(5)]
    for index, article in enumerate(articles):
        _read(article.pk, index + 1, views_each=3)
    run_concurrently(rollup.flush_to_database, threads=4)
    stats = {s.article_id: (s.views, s.readers) for s in ArticleDailyStats.objects.all()}
    assert stats == {a.pk: (3 * (i + 1), i + 1) for i, a in enumerate(articles)}


@pytest.mark.django_db
def test_redis_restart_loses_only_unflushed_reads(make_article) -> None:
    article = make_article()
    _read(article.pk, 4)
    rollup.flush_to_database()
    _read(article.pk, 2, day=None)  # repeat readers: 2 more views, not yet flushed
    get_redis().flushdb()  # Redis restarts without persistence
    _read(article.pk, 1)  # a read after the restart, by a new visitor id namespace
    reads.record_read(article.pk, "after-restart")
    rollup.flush_to_database()
    stats = ArticleDailyStats.objects.get(article=article, day=reads.today())
    # 4 views/readers survived via the database; the 2 unflushed views are lost; the post-restart
    # reads are added on top of the restored figures, not swallowed by GREATEST.
    assert (stats.views, stats.readers) == (6, 6)


@pytest.mark.django_db
def test_flush_task_is_registered_and_rebuilds_beacon_index(make_article) -> None:
    from articles.tasks import flush_reads

    article = make_article()
    get_redis().delete(published.PUBLISHED_KEY, published.URLS_KEY)
    assert published.resolve_published(article_id=article.pk) is None
    flush_reads.delay()
    assert published.resolve_published(article_id=article.pk) == article.pk


@pytest.mark.django_db
def test_beacon_rebuilds_a_lost_index_once(make_article) -> None:
    article = make_article()
    get_redis().flushdb()  # Redis restarted: no index yet
    client = Client(HTTP_USER_AGENT=BROWSER)
    assert client.post("/r/", data=str(article.pk), content_type="text/plain").status_code == 204
    assert day_counts(article.pk)[0] == 1
    assert client.post("/r/", data="424242", content_type="text/plain").status_code == 404


def _wsgi(
    method: str,
    *,
    query: str = "",
    body: bytes = b"",
    ua: str = BROWSER,
    cookie: str = "",
    remote: str = "192.0.2.5",
    forwarded_for: str | None = None,
) -> tuple[str, dict, bytes]:
    import io

    from config.wsgi import application

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": "/r/",
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": remote,
        "HTTP_USER_AGENT": ua,
        "HTTP_COOKIE": cookie,
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "text/plain",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
    }
    if forwarded_for is not None:
        environ["HTTP_X_FORWARDED_FOR"] = forwarded_for
    seen: dict = {}

    def start_response(status: str, headers: list) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    payload = b"".join(application(environ, start_response))
    return seen["status"], seen["headers"], payload


@pytest.mark.django_db
def test_wsgi_fast_path_beacon(make_article, django_assert_num_queries) -> None:
    article = make_article()
    _wsgi("GET", query="id=999999")  # warm the salt
    with django_assert_num_queries(0):
        status, headers, body = _wsgi("POST", body=str(article.pk).encode())
        assert status.startswith("204")
        status, headers, body = _wsgi(
            "GET",
            query=f"id={article.pk}",
            cookie=f"{visitors.VISITOR_COOKIE}={visitors.sign_cookie('abcdefghijklmnopqrst')}",
        )
        assert status.startswith("200") and headers["Content-Type"] == "image/gif" and body.startswith(b"GIF89a")
        assert _wsgi("POST", body=b"\xff\xfe")[0].startswith("400")
        assert _wsgi("POST", body=b"1" * 4000)[0].startswith("413")
        assert _wsgi("GET", query="id=424242")[0].startswith("404")
        assert _wsgi("GET", query="url=notaurl")[0].startswith("400")
        assert _wsgi("DELETE")[0].startswith("405")
        assert _wsgi("POST", body=str(article.pk).encode(), ua="Googlebot/2.1")[0].startswith("204")
    assert day_counts(article.pk) == (2, 2)


# --- Gaming the ranking: forged cookies, one client adding readers, proxies -------------------


@pytest.mark.django_db
def test_unsigned_or_tampered_reader_cookie_counts_as_no_cookie(make_article) -> None:
    article = make_article()
    url = article.get_absolute_url()
    signed = visitors.sign_cookie("abcdefghijklmnopqrstuv")
    tampered = signed[:-1] + ("A" if signed[-1] != "A" else "B")
    for cookie in ["abcdefghijklmnopqrstuv", "zyxwvutsrqponmlkjihgfe", tampered, signed + "x", "." + signed]:
        client = Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="198.51.100.7")
        client.cookies[visitors.VISITOR_COOKIE] = cookie
        response = client.get(url)
        # Counted as the IP+UA reader, and handed a fresh signed cookie for that reader.
        fresh = response.cookies[visitors.VISITOR_COOKIE].value
        assert visitors.read_cookie(fresh) is not None and fresh != cookie
    assert day_counts(article.pk) == (5, 1)
    # The same forgeries through the beacon (Django view and WSGI fast path).
    for cookie in ["abcdefghijklmnopqrstuv", tampered]:
        client = Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="198.51.100.7")
        client.cookies[visitors.VISITOR_COOKIE] = cookie
        assert client.post("/r/", data=str(article.pk), content_type="text/plain").status_code == 204
        assert (
            _wsgi("POST", body=str(article.pk).encode(), cookie=f"rid={cookie}", remote="198.51.100.7")[0][:3] == "204"
        )
    assert day_counts(article.pk) == (9, 1)
    # A correctly signed cookie is its own reader, on every path.
    client = Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="198.51.100.7")
    client.cookies[visitors.VISITOR_COOKIE] = signed
    assert visitors.VISITOR_COOKIE not in client.get(url).cookies  # kept, not replaced
    assert _wsgi("POST", body=str(article.pk).encode(), cookie=f"rid={signed}", remote="198.51.100.7")[0][:3] == "204"
    assert day_counts(article.pk) == (11, 2)


def _random_signed_cookie() -> str:
    import secrets

    # What a client gets by fetching pages with fresh cookie jars: valid signatures.
    return visitors.sign_cookie(secrets.token_urlsafe(16))


@pytest.mark.django_db
def test_one_ip_adds_at_most_the_cap_of_readers_and_many_ips_all_count(make_article, settings) -> None:
    assert settings.READS_MAX_READERS_PER_IP_PER_DAY == 50  # the documented default
    bought, organic = make_article(), make_article()
    for _ in range(1000):
        status = _wsgi("POST", body=str(bought.pk).encode(), cookie=f"rid={_random_signed_cookie()}")[0]
        assert status.startswith("204")
    views, readers = day_counts(bought.pk)
    assert views == 1000  # every view still counts as a view
    assert 45 <= readers <= 50
    for n in range(1000):
        remote = f"198.18.{n // 250}.{n % 250 + 1}"
        _wsgi("POST", body=str(organic.pk).encode(), cookie=f"rid={_random_signed_cookie()}", remote=remote)
    assert day_counts(organic.pk)[0] == 1000
    assert day_counts(organic.pk)[1] >= 970  # HyperLogLog: about 1 % error


@pytest.mark.django_db
def test_the_cap_covers_the_article_page_cookieless_readers_and_ipv6_slash_64(make_article, settings) -> None:
    settings.READS_MAX_READERS_PER_IP_PER_DAY = 5
    article = make_article()
    url = article.get_absolute_url()
    # Cookieless readers with rotating User-Agents from one address: capped too.
    for n in range(20):
        Client(HTTP_USER_AGENT=f"{BROWSER} r{n}", REMOTE_ADDR="203.0.113.9").get(url)
    assert day_counts(article.pk) == (20, 5)
    # Twenty addresses inside one IPv6 /64 are one network; another /64 is another.
    for n in range(20):
        Client(HTTP_USER_AGENT=f"{BROWSER} s{n}", REMOTE_ADDR=f"2001:db8:1:2::{n + 1:x}").get(url)
    assert day_counts(article.pk) == (40, 10)
    Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="2001:db8:1:3::1").get(url)
    assert day_counts(article.pk) == (41, 11)
    # Another article, another day's budget: the cap is per article.
    other = make_article()
    Client(HTTP_USER_AGENT=f"{BROWSER} r0", REMOTE_ADDR="203.0.113.9").get(other.get_absolute_url())
    assert day_counts(other.pk) == (1, 1)
    # No raw address is kept for the cap either.
    for key in get_redis().scan_iter():
        assert b"203.0.113.9" not in key + (get_redis().dump(key) or b"")


@pytest.mark.django_db
def test_readers_behind_a_trusted_proxy_are_told_apart_by_x_forwarded_for(make_article, settings) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.READS_MAX_READERS_PER_IP_PER_DAY = 3
    article = make_article()
    url = article.get_absolute_url()
    # Cookieless readers with the same browser, behind the site's proxy: one reader per client IP.
    for n in range(4):
        Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"198.51.100.{n + 1}").get(url)
        _wsgi("POST", body=str(article.pk).encode(), remote="10.0.0.2", forwarded_for=f"198.51.100.{n + 1}, 10.1.2.3")
    assert day_counts(article.pk) == (8, 4)
    # A forged header from a client that is not our proxy changes nothing: the cap still holds.
    for n in range(10):
        _wsgi(
            "POST",
            body=str(article.pk).encode(),
            cookie=f"rid={_random_signed_cookie()}",
            remote="192.0.2.99",
            forwarded_for=f"203.0.113.{n + 1}",
        )
    assert day_counts(article.pk) == (18, 7)
