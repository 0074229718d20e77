"""The administrator's third-party screens in Arabic (issue 13): django-celery-beat's schedules
described in Arabic instead of cron-descriptor's English (newsletter.admin.beat), and a group's
permission rows named in Arabic (newsletter.admin.accounts)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from newsletter.admin.accounts import permission_label
from newsletter.admin.beat import describe_crontab, describe_interval

pytestmark = pytest.mark.django_db


def crontab(minute: str, hour: str, day_of_week: str = "*", day_of_month: str = "*") -> CrontabSchedule:
    return CrontabSchedule(
        minute=minute, hour=hour, day_of_week=day_of_week, day_of_month=day_of_month, timezone="Asia/Baghdad"
    )


def test_crontab_descriptions_are_arabic() -> None:
    # The numbers in the configured numerals (NUMERALS empty: Arabic-Indic in Arabic, issue 22).
    assert describe_crontab(crontab("0", "7")) == "يوميًا الساعة ٠٧:٠٠ (Asia/Baghdad)"
    assert describe_crontab(crontab("5", "8", "6")) == "أيام السبت الساعة ٠٨:٠٥ (Asia/Baghdad)"
    assert describe_crontab(crontab("30", "4", "0,5")) == "أيام الأحد، الجمعة الساعة ٠٤:٣٠ (Asia/Baghdad)"
    assert describe_crontab(crontab("15", "*")) == "كل ساعة عند الدقيقة ١٥ (Asia/Baghdad)"
    assert describe_crontab(crontab("*", "*")) == "كل دقيقة (Asia/Baghdad)"
    # Anything richer is shown field by field, as crontab writes it, rather than guessed at.
    assert describe_crontab(crontab("*/5", "8-17", "1-5", "1")) == (
        "الدقيقة: */5؛ الساعة: 8-17؛ يوم الشهر: 1؛ الشهر: *؛ يوم الأسبوع: 1-5 (Asia/Baghdad)"
    )


@pytest.mark.parametrize(
    ("every", "period", "expected"),
    [
        (1, IntervalSchedule.SECONDS, "كل ثانية"),
        (2, IntervalSchedule.MINUTES, "كل دقيقتين"),
        (5, IntervalSchedule.MINUTES, "كل ٥ دقائق"),
        (60, IntervalSchedule.SECONDS, "كل ٦٠ ثانية"),
        (300, IntervalSchedule.SECONDS, "كل ٣٠٠ ثانية"),
        (3, IntervalSchedule.DAYS, "كل ٣ أيام"),
    ],
)
def test_interval_descriptions_count_in_arabic(every: int, period: str, expected: str) -> None:
    """The periodic tasks' schedule column: the library wrote "كل 300 ثانية" (issue 22)."""
    assert describe_interval(IntervalSchedule(every=every, period=period)) == expected


@pytest.fixture
def admin_client_ar() -> Client:
    user = get_user_model().objects.create_superuser("مدير", "admin@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


def test_beat_screens_describe_schedules_in_arabic(admin_client_ar: Client) -> None:
    daily = PeriodicTask.objects.get(task="newsletter.tasks.run_scheduled_digest", kwargs__contains="daily")
    listing = admin_client_ar.get("/admin/django_celery_beat/periodictask/").content.decode()
    form = admin_client_ar.get(f"/admin/django_celery_beat/periodictask/{daily.pk}/change/").content.decode()
    crontabs = admin_client_ar.get("/admin/django_celery_beat/crontabschedule/").content.decode()
    for page in (listing, form, crontabs):
        assert "يوميًا الساعة ٠٧:٠٠" in page
        assert "At 07:00 AM" not in page


def test_periodic_task_form_still_saves(admin_client_ar: Client) -> None:
    """The raw screen stays usable: an administrator disables a task through the form."""
    task = PeriodicTask.objects.get(task="newsletter.tasks.sweep_deliveries")
    url = f"/admin/django_celery_beat/periodictask/{task.pk}/change/"
    data = {
        "name": task.name, "regtask": task.task, "task": "", "description": "", "interval": task.interval_id,
        "crontab": "", "solar": "", "clocked": "", "start_time_0": "", "start_time_1": "", "args": "[]",
        "kwargs": "{}", "expires_0": "", "expires_1": "", "expire_seconds": "", "queue": "", "exchange": "",
        "routing_key": "", "priority": "", "headers": "{}", "_save": "1",
    }  # fmt: skip
    response = admin_client_ar.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    task.refresh_from_db()
    assert task.enabled is False


def test_group_delete_page_names_permissions_in_arabic(admin_client_ar: Client) -> None:
    group = Group.objects.create(name="مراجعون")
    group.permissions.add(Permission.objects.get(codename="add_group"), Permission.objects.get(codename="view_digest"))
    page = admin_client_ar.get(f"/admin/auth/group/{group.pk}/delete/").content.decode()
    assert "صلاحية إضافة «مجموعة»" in page
    assert "صلاحية عرض «" in page
    assert "Group_permissions object" not in page and "relationship" not in page
    assert "صلاحيات المجموعة" in page


def test_permission_choices_are_arabic(admin_client_ar: Client) -> None:
    page = admin_client_ar.get("/admin/auth/group/add/").content.decode()
    assert permission_label(Permission.objects.get(codename="change_user")) in page
    assert "Can change user" not in page
