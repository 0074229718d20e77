"""Issue 27, subject-line tests: an edition's subject variants (SubjectVariant), its test settings
and outcome on Digest (share, wait, metric, winner and why), the statuses testing and waiting, the
held rows of the rest and each row's variant on Delivery, and the every-minute periodic task that
picks the winner when the wait has passed (newsletter.tasks.advance_subject_tests)."""

import django.db.models.deletion
from django.db import migrations, models


ADVANCE_TASK = ("Subject-line tests: choose the winner", "newsletter.tasks.advance_subject_tests", 60)


def create_advance_task(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    name, task, every = ADVANCE_TASK
    interval, _ = IntervalSchedule.objects.get_or_create(every=every, period="seconds")
    PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "interval": interval})


def remove_advance_task(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=ADVANCE_TASK[0]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("newsletter", "0018_personal_editions"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddField(
            model_name="digest",
            name="test_decided_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="وقت اختيار الفائز"),
        ),
        migrations.AddField(
            model_name="digest",
            name="test_metric",
            field=models.CharField(
                choices=[("opens", "نسبة الفتح الفعلي"), ("clicks", "نسبة النقر")],
                default="opens",
                max_length=6,
                verbose_name="معيار الفوز",
            ),
        ),
        migrations.AddField(
            model_name="digest",
            name="test_sent_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="اكتمال إرسال الاختبار"),
        ),
        migrations.AddField(
            model_name="digest",
            name="test_share_percent",
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="نسبة جمهور الاختبار (٪)"),
        ),
        migrations.AddField(
            model_name="digest",
            name="test_started_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="بدء اختبار العناوين"),
        ),
        migrations.AddField(
            model_name="digest",
            name="test_wait_minutes",
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name="مدة انتظار النتيجة (دقائق)"),
        ),
        migrations.AddField(
            model_name="digest",
            name="test_winner_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("leader", "تفوّق بفارق لا تفسّره الصدفة (فاصل ثقة ٩٥٪)"),
                    ("too_close", "النتيجة متقاربة جدًا فأُرسل العنوان الأول"),
                    ("no_data", "لا بيانات كافية عند انتهاء الانتظار فأُرسل العنوان الأول"),
                ],
                max_length=10,
                verbose_name="سبب اختيار الفائز",
            ),
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
                    ("held", "بانتظار العنوان الفائز"),
                ],
                default="queued",
                max_length=8,
                verbose_name="الحالة",
            ),
        ),
        migrations.AlterField(
            model_name="digest",
            name="status",
            field=models.CharField(
                choices=[
                    ("draft", "مسودة"),
                    ("approved", "معتمدة"),
                    ("testing", "اختبار العناوين قيد الإرسال"),
                    ("waiting", "في انتظار نتيجة اختبار العناوين"),
                    ("sending", "قيد الإرسال"),
                    ("paused", "موقوفة مؤقتًا"),
                    ("sent", "أُرسلت"),
                    ("cancelled", "ملغاة"),
                    ("skipped", "لم تُرسل"),
                ],
                db_index=True,
                default="draft",
                max_length=10,
                verbose_name="الحالة",
            ),
        ),
        migrations.CreateModel(
            name="SubjectVariant",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("position", models.PositiveSmallIntegerField(verbose_name="الترتيب")),
                ("subject", models.CharField(max_length=200, verbose_name="العنوان")),
                ("recipients", models.PositiveIntegerField(default=0, verbose_name="المستلمون")),
                ("human_openers", models.PositiveIntegerField(default=0, verbose_name="فتحوا فعليًا")),
                ("clickers", models.PositiveIntegerField(default=0, verbose_name="نقروا")),
                (
                    "digest",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="variants",
                        to="newsletter.digest",
                        verbose_name="العدد",
                    ),
                ),
            ],
            options={
                "verbose_name": "عنوان مقترح",
                "verbose_name_plural": "العناوين المقترحة",
                "ordering": ["position"],
            },
        ),
        migrations.AddField(
            model_name="delivery",
            name="variant",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="newsletter.subjectvariant",
                verbose_name="العنوان",
            ),
        ),
        migrations.AddField(
            model_name="digest",
            name="test_winner",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="newsletter.subjectvariant",
                verbose_name="العنوان الفائز",
            ),
        ),
        migrations.AddConstraint(
            model_name="subjectvariant",
            constraint=models.UniqueConstraint(fields=("digest", "position"), name="subjectvariant_once_per_position"),
        ),
        migrations.RunPython(create_advance_task, remove_advance_task),
    ]
