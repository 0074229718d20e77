"""Issue 13: an editor's "schedule at" time on an edition (Digest.send_at), Arabic verbose names
for the fields the admin shows, and the every-minute periodic task that sends the editions
whose "schedule at" time has come (newsletter.tasks.release_scheduled_editions)."""

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


RELEASE_TASK = ("Send editions scheduled by editors", "newsletter.tasks.release_scheduled_editions", 60)


def create_release_task(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    name, task, every = RELEASE_TASK
    interval, _ = IntervalSchedule.objects.get_or_create(every=every, period="seconds")
    PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "interval": interval})


def remove_release_task(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=RELEASE_TASK[0]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("newsletter", "0008_analytics"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddField(
            model_name="digest",
            name="send_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="موعد الإرسال الذي حدده المحرر"),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="المحاولات"),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="batch",
            field=models.PositiveIntegerField(default=0, verbose_name="الدفعة"),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="bounced_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="وقت الارتداد"),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="claimed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="وقت الحجز"),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="clicked_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="وقت النقر"),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="complained_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="وقت الشكوى"),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="delivered_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="وقت التسليم"),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="digest",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="deliveries",
                to="newsletter.digest",
                verbose_name="العدد",
            ),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="error",
            field=models.CharField(blank=True, max_length=500, verbose_name="الخطأ"),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="esp_message_id",
            field=models.CharField(blank=True, max_length=255, verbose_name="معرّف الرسالة لدى مزوّد البريد"),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="opened_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="وقت الفتح"),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="queued_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="وقت الدخول في الطابور"),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="rejected_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="وقت الرفض"),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="sending_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="وقت بدء الإرسال"),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="sent_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="وقت الإرسال"),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="status",
            field=models.CharField(
                choices=[
                    ("queued", "في الطابور"),
                    ("claimed", "قيد التحضير"),
                    ("sending", "قيد الإرسال"),
                    ("sent", "أُرسلت"),
                    ("failed", "فشلت"),
                    ("unknown", "غير معروف"),
                    ("skipped", "تُخطّيت"),
                ],
                default="queued",
                max_length=8,
                verbose_name="الحالة",
            ),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="subscriber",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="deliveries",
                to="newsletter.subscriber",
                verbose_name="المشترك",
            ),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="unsubscribed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="وقت إلغاء الاشتراك"),
        ),
        migrations.AlterField(
            model_name="deliveryevent",
            name="delivery",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="events",
                to="newsletter.delivery",
                verbose_name="التسليم",
            ),
        ),
        migrations.AlterField(
            model_name="deliveryevent",
            name="description",
            field=models.CharField(blank=True, max_length=500, verbose_name="الوصف"),
        ),
        migrations.AlterField(
            model_name="deliveryevent",
            name="esp",
            field=models.CharField(max_length=30, verbose_name="مزوّد البريد"),
        ),
        migrations.AlterField(
            model_name="deliveryevent",
            name="event_id",
            field=models.CharField(max_length=255, verbose_name="معرّف الحدث"),
        ),
        migrations.AlterField(
            model_name="deliveryevent",
            name="event_type",
            field=models.CharField(max_length=20, verbose_name="نوع الحدث"),
        ),
        migrations.AlterField(
            model_name="deliveryevent",
            name="received_at",
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name="وقت الاستلام"),
        ),
        migrations.AlterField(
            model_name="deliveryevent",
            name="recipient_hash",
            field=models.CharField(blank=True, max_length=64, verbose_name="بصمة المستلم"),
        ),
        migrations.AlterField(
            model_name="deliveryevent",
            name="timestamp",
            field=models.DateTimeField(verbose_name="الوقت"),
        ),
        migrations.AlterField(
            model_name="digest",
            name="created_at",
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name="تاريخ الإنشاء"),
        ),
        migrations.AlterField(
            model_name="digest",
            name="sending_started_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="بدء الإرسال"),
        ),
        migrations.AlterField(
            model_name="digest",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, verbose_name="آخر تعديل"),
        ),
        migrations.AlterField(
            model_name="digestitem",
            name="digest",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="items",
                to="newsletter.digest",
                verbose_name="العدد",
            ),
        ),
        migrations.AlterField(
            model_name="subscriber",
            name="bounced_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="تاريخ الارتداد"),
        ),
        migrations.AlterField(
            model_name="subscriber",
            name="complained_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="تاريخ الشكوى"),
        ),
        migrations.AlterField(
            model_name="subscriber",
            name="confirm_ip_hash",
            field=models.CharField(
                blank=True, editable=False, max_length=64, verbose_name="بصمة عنوان الشبكة عند التأكيد"
            ),
        ),
        migrations.AlterField(
            model_name="subscriber",
            name="last_confirmation_sent_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="آخر رسالة تأكيد"),
        ),
        migrations.AlterField(
            model_name="subscriber",
            name="signup_ip_hash",
            field=models.CharField(
                blank=True, editable=False, max_length=64, verbose_name="بصمة عنوان الشبكة عند الاشتراك"
            ),
        ),
        migrations.AlterField(
            model_name="subscriber",
            name="signup_user_agent_hash",
            field=models.CharField(blank=True, editable=False, max_length=64, verbose_name="بصمة المتصفح عند الاشتراك"),
        ),
        migrations.AlterField(
            model_name="subscriber",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, verbose_name="آخر تعديل"),
        ),
        migrations.AlterField(
            model_name="subscriber",
            name="uuid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name="المعرّف العام"),
        ),
        migrations.AlterField(
            model_name="suppression",
            name="created_at",
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name="تاريخ الإضافة"),
        ),
        migrations.AlterField(
            model_name="suppression",
            name="email_hash",
            field=models.CharField(max_length=64, unique=True, verbose_name="بصمة العنوان"),
        ),
        migrations.AlterField(
            model_name="suppression",
            name="reason",
            field=models.CharField(
                choices=[("erased", "حُذفت البيانات"), ("bounced", "بريد مرتد"), ("complained", "شكوى")],
                max_length=12,
                verbose_name="السبب",
            ),
        ),
        migrations.RunPython(create_release_task, remove_release_task),
    ]
