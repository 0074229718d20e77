"""django-celery-beat's raw screens (periodic tasks, crontab/interval/solar/clocked schedules):
administrators only, and in Arabic. Editors change the digest times on the Arabic schedule form
(newsletter.admin.digest_sending.schedule_view), which writes the same rows; the raw screens
expose crontab syntax and every task of the deployment, which is an administrator's job.

The library's labels are translated in locale/ar; what gettext cannot reach is replaced here:
cron-descriptor's English descriptions ("At 07:00 AM, only on Saturday") by `describe_crontab`,
the hard-coded "Task Name" filter title and the property columns named after Python attributes
("Scheduler", "Human readable")."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from sitewide.dates import digits

# crontab's day_of_week counts from Sunday = 0 (7 is Sunday again).
CRON_DAYS = [_("الأحد"), _("الاثنين"), _("الثلاثاء"), _("الأربعاء"), _("الخميس"), _("الجمعة"), _("السبت"), _("الأحد")]


class SuperuserOnly:
    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)


def describe_crontab(row: CrontabSchedule) -> str:
    """The schedule in Arabic words for the common shapes (daily, some weekdays, hourly, every
    minute at HH:MM, the numbers in the configured numerals), else each field labelled with its
    crontab value as written; followed by the time zone."""
    minute, hour, day, month, weekday = row.minute, row.hour, row.day_of_month, row.month_of_year, row.day_of_week
    every_day = day == "*" and month == "*"
    days = weekday.split(",")
    if minute.isdigit() and hour.isdigit() and every_day and weekday == "*":
        text = gettext("يوميًا الساعة %(time)s") % {"time": digits(f"{int(hour):02d}:{int(minute):02d}")}
    elif minute.isdigit() and hour.isdigit() and every_day and all(d.isdigit() and int(d) < 8 for d in days):
        names = gettext("، ").join(str(CRON_DAYS[int(d)]) for d in days)
        time = digits(f"{int(hour):02d}:{int(minute):02d}")
        text = gettext("أيام %(days)s الساعة %(time)s") % {"days": names, "time": time}
    elif minute.isdigit() and hour == "*" and every_day and weekday == "*":
        text = gettext("كل ساعة عند الدقيقة %(minute)s") % {"minute": digits(int(minute))}
    elif (minute, hour, day, month, weekday) == ("*",) * 5:
        text = ngettext("كل دقيقة", "كل %(n)s دقائق", 1)  # one msgid with describe_interval's
    else:
        text = gettext("الدقيقة: %(minute)s؛ الساعة: %(hour)s؛ يوم الشهر: %(day)s؛ الشهر: %(month)s؛ يوم الأسبوع: %(weekday)s") % {
            "minute": minute, "hour": hour, "day": day, "month": month, "weekday": weekday,
        }  # fmt: skip
    return f"{text} ({row.timezone})"


# IntervalSchedule periods, each counted with its Arabic plural ("كل ثانيتين", "كل ٣٠٠ ثانية").
INTERVALS = {
    IntervalSchedule.DAYS: lambda n: ngettext("كل يوم", "كل %(n)s أيام", n),
    IntervalSchedule.HOURS: lambda n: ngettext("كل ساعة", "كل %(n)s ساعات", n),
    IntervalSchedule.MINUTES: lambda n: ngettext("كل دقيقة", "كل %(n)s دقائق", n),
    IntervalSchedule.SECONDS: lambda n: ngettext("كل ثانية", "كل %(n)s ثوانٍ", n),
}


def describe_interval(row: IntervalSchedule) -> str:
    """ "كل ٥ دقائق": the library's "every 300 seconds" in Arabic words and numerals."""
    phrase = INTERVALS.get(row.period)
    if phrase is None:  # microseconds: a test setting, never a newsroom's
        return str(row)
    return phrase(row.every) % {"n": digits(row.every)}


class CrontabExpression:
    @admin.display(description=_("صيغة الجدول"))
    def expression(self, obj: CrontabSchedule) -> SafeString:
        # Crontab syntax reads left to right whatever the page direction.
        return format_html('<span dir="ltr">{}</span>', str(obj))

    @admin.display(description=_("الوصف"))
    def description(self, obj: CrontabSchedule) -> str:
        return describe_crontab(obj)


class CrontabScheduleAdmin(CrontabExpression, beat_admin.CrontabScheduleAdmin):
    list_display = ("expression", "description")
    fields = ("description", "minute", "hour", "day_of_month", "month_of_year", "day_of_week", "timezone")
    readonly_fields = ("description",)


class TaskFilter(admin.AllValuesFieldListFilter):
    """The task path filter, titled in Arabic (the library's field verbose name is a plain str)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.title = gettext("المهمة")


class PeriodicTaskAdmin(beat_admin.PeriodicTaskAdmin):
    # Django's own form template: the library's adds an English "Translation:" line by script
    # (from cron-descriptor); the Arabic description is the read-only field instead.
    change_form_template = None
    list_display = ("name", "enabled", "schedule_label", "start_time", "last_run_at", "one_off")
    list_filter = ["enabled", "one_off", ("task", TaskFilter), "start_time", "last_run_at"]

    @admin.display(description=_("الجدول"))
    def schedule_label(self, obj: PeriodicTask) -> str | SafeString:
        if obj.crontab is not None:
            return format_html('{} <span dir="ltr">({})</span>', describe_crontab(obj.crontab), obj.crontab)
        if obj.interval is not None:
            return describe_interval(obj.interval)
        return str(obj.solar or obj.clocked or "—")

    @admin.display(description=_("وصف الجدول"))
    def crontab_translation(self, obj: PeriodicTask) -> str:
        return describe_crontab(obj.crontab) if obj.crontab is not None else "—"

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> Any:
        # Skips the library's override, which runs cron-descriptor over every crontab for that script.
        return admin.ModelAdmin.changeform_view(self, request, object_id, form_url, extra_context)


class PeriodicTaskInline(beat_admin.PeriodicTaskInline):
    """The tasks using a schedule, on the schedule's page: the library's columns are the model
    fields, whose task header is a hard-coded English verbose name and whose help tooltips carry
    English code examples; these columns show the same values as left-to-right code."""

    fields = readonly_fields = ("name", "task_path", "positional", "keyword")

    @admin.display(description=_("المهمة"))
    def task_path(self, obj: PeriodicTask) -> SafeString:
        return format_html('<span dir="ltr">{}</span>', obj.task)

    @admin.display(description=_("المعاملات الموضعية"))
    def positional(self, obj: PeriodicTask) -> SafeString:
        return format_html('<span dir="ltr">{}</span>', obj.args)

    @admin.display(description=_("المعاملات المسمّاة"))
    def keyword(self, obj: PeriodicTask) -> SafeString:
        return format_html('<span dir="ltr">{}</span>', obj.kwargs)


ARABIC_ADMINS: dict[type, type] = {CrontabSchedule: CrontabScheduleAdmin, PeriodicTask: PeriodicTaskAdmin}


def restrict_to_superusers(site: admin.AdminSite, app_label: str = "django_celery_beat") -> None:
    for model, model_admin in list(site._registry.items()):
        if model._meta.app_label != app_label or isinstance(model_admin, SuperuserOnly):
            continue
        base = ARABIC_ADMINS.get(model) or type(model_admin)
        extra = {"inlines": [PeriodicTaskInline]} if issubclass(base, beat_admin.ScheduleAdmin) else {}
        cls = type(f"SuperuserOnly{type(model_admin).__name__}", (SuperuserOnly, base), extra)
        site.unregister(model)
        site.register(model, cls)
