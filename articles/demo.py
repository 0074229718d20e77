"""Demo articles and simulated read traffic for `seed_demo` (idempotent).

About thirty Arabic articles in five sections, published over the last ten days, with inline
hashtags. Reads: ArticleDailyStats rows for days 2..7 ago and Redis counters for yesterday and
today, shaped so the 24-hour and the 7-day "most read" lists differ: the freshest stories lead
the day, older ones lead the week. Re-running sets the same figures again (never adds).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from sitewide.redis_client import get_redis

from .content import published, services
from .content.models import Article, Section
from .reading import reads
from .reading.models import ArticleDailyStats

# name, slug, English name (what English readers see)
DEMO_SECTIONS = [
    ("سياسة", "politics", "Politics"),
    ("اقتصاد", "economy", "Economy"),
    ("رياضة", "sport", "Sport"),
    ("ثقافة", "culture", "Culture"),
    ("تقنية", "tech", "Technology"),
]

# section, title, summary, body (hashtags inline)
DEMO_ARTICLES: list[tuple[str, str, str, str]] = [
    (
        "politics",
        "وزير الخارجية يبحث الحوار الاستراتيجي مع واشنطن",
        "جولة جديدة من المباحثات بين بغداد وواشنطن.",
        "بحث وزير الخارجية #فؤاد_حسين في واشنطن ملفات #الحوار_الاستراتيجي بين البلدين، وأكد أن العلاقة مع #أميركا تقوم على المصالح المشتركة.",
    ),
    (
        "politics",
        "بغداد وواشنطن تتفقان على جدول انسحاب القوات",
        "اتفاق على جدول زمني للانسحاب.",
        "أعلن الجانبان في ختام جلسة #الحوار_الاستراتيجي اتفاقهما على جدول زمني، وقال مسؤولون إن #اميركا ستبقي مستشارين فقط.",
    ),
    (
        "politics",
        "عملية أمنية تلاحق خلايا داعش في صحراء الأنبار",
        "القوات الأمنية تعلن مقتل عدد من المسلحين.",
        "نفذت القوات العراقية عملية واسعة ضد خلايا #داعش في صحراء #الأنبار بإسناد من طيران التحالف.",
    ),
    (
        "politics",
        "فؤاد حسين: لا عودة إلى المربع الأول",
        "وزير الخارجية يتحدث عن مرحلة ما بعد الانسحاب.",
        "قال #فؤاد_حسين إن العراق لن يعود إلى المربع الأول، وإن خطر #داعش ما زال قائمًا لكنه تراجع كثيرًا.",
    ),
    (
        "politics",
        "البرلمان يستضيف وزير الدفاع لمناقشة الوضع الأمني",
        "جلسة استماع حول الخطط الأمنية.",
        "استضاف #البرلمان وزير الدفاع لمناقشة خطط مواجهة #داعش وتأمين الحدود.",
    ),
    (
        "politics",
        "الرئاسة تدعو إلى حوار وطني شامل",
        "دعوة إلى القوى السياسية للجلوس إلى الطاولة.",
        "دعت رئاسة الجمهورية القوى السياسية إلى #حوار_وطني شامل قبل #الانتخابات المقبلة.",
    ),
    (
        "politics",
        "مفوضية الانتخابات تحدد موعد الاقتراع",
        "الموعد النهائي للانتخابات المحلية.",
        "حددت المفوضية موعد #الانتخابات المحلية، ودعت الناخبين إلى تحديث بياناتهم.",
    ),
    (
        "economy",
        "البرلمان يناقش ميزانية ٢٠٢٥ وسط خلافات",
        "خلافات حول أبواب الإنفاق.",
        "ناقش #البرلمان مشروع #ميزانيةٌ_٢٠٢٥ وسط خلافات حول حصص المحافظات والإنفاق الاستثماري.",
    ),
    (
        "economy",
        "أسعار النفط ترتفع وتنعش آمال الموازنة",
        "برنت فوق ثمانين دولارًا.",
        "ارتفعت أسعار #النفط إلى أعلى مستوى في شهرين، ما ينعش آمال تمويل #ميزانية_٢٠٢٥ دون عجز كبير.",
    ),
    (
        "economy",
        "البنك المركزي يطلق منصة جديدة للدفع الإلكتروني",
        "خطوة نحو تقليل التعامل النقدي.",
        "أطلق #البنك_المركزي منصة للدفع الإلكتروني تهدف إلى خفض التعامل النقدي وتشجيع #الشمول_المالي.",
    ),
    (
        "economy",
        "الدينار يستقر أمام الدولار بعد أسابيع من التذبذب",
        "استقرار في أسواق الصرف.",
        "استقر سعر صرف #الدينار أمام #الدولار في أسواق بغداد بعد إجراءات #البنك_المركزي الأخيرة.",
    ),
    (
        "economy",
        "اتفاق مع أميركا لاستيراد الغاز وتقليل الانقطاعات",
        "اتفاق طاقة جديد قبل الصيف.",
        "وقع العراق اتفاقًا للطاقة مع شركات من #أميركا لتقليل انقطاعات #الكهرباء قبل الصيف.",
    ),
    (
        "economy",
        "الزراعة تعلن خطة لدعم مزارعي الحنطة",
        "دعم الأسمدة والبذور المحسنة.",
        "أعلنت وزارة الزراعة خطة لدعم مزارعي #الحنطة بالأسمدة والبذور، في موسم يتأثر بـ#الجفاف.",
    ),
    (
        "economy",
        "مشروع طريق التنمية يدخل مرحلة التنفيذ",
        "الحكومة توقع عقود المرحلة الأولى.",
        "دخل مشروع #طريق_التنمية مرحلة التنفيذ بتوقيع عقود المرحلة الأولى مع شركات إقليمية.",
    ),
    (
        "sport",
        "المنتخب يستعد لمباراة حاسمة في تصفيات كأس العالم",
        "استعدادات مكثفة قبل اللقاء.",
        "يواصل #المنتخب_الوطني استعداداته لمباراة حاسمة في #تصفيات_كأس_العالم أمام منافس قوي.",
    ),
    (
        "sport",
        "الزوراء يتصدر الدوري بعد فوز مثير",
        "فوز في الدقائق الأخيرة.",
        "انتزع #الزوراء صدارة #الدوري_العراقي بعد فوز مثير في الدقائق الأخيرة.",
    ),
    (
        "sport",
        "الشرطة يتعاقد مع مدرب أجنبي جديد",
        "تعاقد لموسمين.",
        "أعلن نادي #الشرطة التعاقد مع مدرب أجنبي لموسمين سعيًا للمنافسة في #دوري_أبطال_آسيا.",
    ),
    (
        "sport",
        "ملعب البصرة يستضيف بطولة خليجي",
        "استعدادات لوجستية واسعة.",
        "تستعد #البصرة لاستضافة بطولة #خليجي على ملعبها الدولي وسط إقبال جماهيري متوقع.",
    ),
    (
        "sport",
        "منتخب الشباب يتأهل إلى نهائيات آسيا",
        "تأهل بعد تعادل إيجابي.",
        "تأهل #منتخب_الشباب إلى نهائيات آسيا بعد تعادل إيجابي في الجولة الأخيرة.",
    ),
    (
        "sport",
        "الاتحاد يعلن موعد انطلاق الموسم الجديد",
        "الموسم ينطلق في أيلول.",
        "أعلن #اتحاد_الكرة موعد انطلاق #الدوري_العراقي للموسم الجديد.",
    ),
    (
        "culture",
        "معرض بغداد الدولي للكتاب يفتح أبوابه",
        "مشاركة أكثر من ستمئة دار نشر.",
        "افتتح #معرض_بغداد_للكتاب دورته الجديدة بمشاركة واسعة، مع ندوات عن #الرواية_العراقية.",
    ),
    (
        "culture",
        "ترميم المدرسة المستنصرية يقترب من نهايته",
        "مشروع لحماية التراث.",
        "تقترب أعمال ترميم #المدرسة_المستنصرية من نهايتها ضمن خطة لحماية #التراث في بغداد.",
    ),
    (
        "culture",
        "مهرجان المربد الشعري يعود إلى البصرة",
        "شعراء من عشرين دولة.",
        "عاد #مهرجان_المربد إلى #البصرة بمشاركة شعراء من عشرين دولة.",
    ),
    (
        "culture",
        "فيلم عراقي يفوز بجائزة في مهرجان دولي",
        "تتويج للسينما العراقية.",
        "فاز فيلم عراقي بجائزة لجنة التحكيم، في إنجاز جديد لـ#السينما_العراقية.",
    ),
    (
        "culture",
        "شارع المتنبي يحتفي بالخط العربي",
        "معرض للخطاطين الشباب.",
        "احتفى #شارع_المتنبي بـ#الخط_العربي في معرض لخطاطين شباب.",
    ),
    (
        "tech",
        "إطلاق خدمة الجيل الخامس في بغداد تجريبيًا",
        "تجربة في أحياء محددة.",
        "بدأت تجربة خدمة #الجيل_الخامس في أحياء من بغداد، وسط وعود بتوسيعها قريبًا.",
    ),
    (
        "tech",
        "الحكومة الإلكترونية تضيف خدمات جديدة",
        "خدمات الجواز والبطاقة الوطنية.",
        "أضافت بوابة #الحكومة_الإلكترونية خدمات الجواز والبطاقة الوطنية عبر الإنترنت.",
    ),
    (
        "tech",
        "شركات ناشئة عراقية تجذب استثمارات أجنبية",
        "نمو في قطاع التقنية.",
        "جذبت #الشركات_الناشئة العراقية استثمارات من #أميركا والخليج خلال العام.",
    ),
    (
        "tech",
        "حملة للتوعية بالأمن السيبراني في المدارس",
        "دروس للطلبة عن حماية البيانات.",
        "أطلقت وزارة التربية حملة للتوعية بـ#الأمن_السيبراني في المدارس.",
    ),
    (
        "tech",
        "جامعة بغداد تفتتح مختبرًا للذكاء الاصطناعي",
        "مختبر بتمويل دولي.",
        "افتتحت #جامعة_بغداد مختبرًا لـ#الذكاء_الاصطناعي بتمويل دولي.",
    ),
]


def seed_articles() -> int:
    now = timezone.now()
    sections = {}
    for position, (name, slug, name_en) in enumerate(DEMO_SECTIONS):
        sections[slug], _ = Section.objects.get_or_create(
            slug=slug, defaults={"name": name, "name_en": name_en, "position": position}
        )
    for index, (section, title, summary, body) in enumerate(DEMO_ARTICLES):
        guid = f"demo:{index + 1}"
        if Article.objects.filter(guid=guid).exists() or Article.objects.filter(title=title).exists():
            continue
        # Spread over the last ten days; article 0 is the newest.
        published_at = now - timedelta(hours=2 + index * 8)
        services.save_article(
            Article(
                title=title,
                summary=summary,
                body=f"<p>{body}</p>",
                section=sections[section],
                author="فريق التحرير",
                status=Article.Status.PUBLISHED,
                published_at=published_at,
                guid=guid,
            )
        )
    return Article.objects.count()


def _demo_articles() -> list[Article]:
    by_guid = {a.guid: a for a in Article.objects.filter(guid__startswith="demo:")}
    return [by_guid[f"demo:{i + 1}"] for i in range(len(DEMO_ARTICLES)) if f"demo:{i + 1}" in by_guid]


def _readers(index: int, days_ago: int) -> int:
    """Distinct readers of demo article `index` on a day: the newest stories lead today and
    yesterday; stories from the middle of the list had their peak earlier in the week."""
    age_days = (2 + index * 8) / 24
    since_publish = age_days - days_ago
    if since_publish < 0:
        return 0  # not yet published that day
    peak = 120 - 3 * index if index % 3 else 160 - 2 * index  # some stories simply do better
    return max(2, int(peak / (1 + since_publish * 1.5)))


def seed_reads() -> None:
    """ArticleDailyStats for days 2..7 ago, Redis counters (views + HyperLogLog of fixed demo
    visitor ids) for today and yesterday. Deterministic: re-running changes nothing."""
    articles = _demo_articles()
    today = reads.today()
    for index, article in enumerate(articles):
        for days_ago in range(2, 8):
            readers = _readers(index, days_ago)
            if readers:
                ArticleDailyStats.objects.update_or_create(
                    article=article,
                    day=today - timedelta(days=days_ago),
                    defaults={"readers": readers, "views": readers + readers // 3},
                )
    client = get_redis()
    ttl = reads.key_ttl_seconds()
    for days_ago in (0, 1):
        day = today - timedelta(days=days_ago)
        pipe = client.pipeline(transaction=False)
        for index, article in enumerate(articles):
            readers = _readers(index, days_ago)
            if not readers:
                continue
            ukey = reads.readers_key(day, article.pk)
            pipe.pfadd(ukey, *[f"demo-{article.pk}-{days_ago}-{n}" for n in range(readers)])
            pipe.expire(ukey, ttl)
        pipe.execute()
        # Views are set (not incremented) to at least the demo figure, so a re-run adds nothing.
        current = client.hgetall(reads.views_key(day))
        pipe = client.pipeline(transaction=False)
        for index, article in enumerate(articles):
            readers = _readers(index, days_ago)
            if readers:
                demo_views = readers + readers // 3
                if int(current.get(str(article.pk).encode(), 0)) < demo_views:
                    pipe.hset(reads.views_key(day), str(article.pk), demo_views)
        pipe.expire(reads.views_key(day), ttl)
        pipe.execute()
    published.rebuild_index()
