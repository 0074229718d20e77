"""The edition page's own fields (subject, preheader, intro): refused when they hold mail-merge
syntax (sitewide.mail_merge), and saved only while the edition is still editable."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from newsletter.editions.models import Digest
from newsletter.editions.state import DigestError, lock_editable
from sitewide.mail_merge import reject_mail_merge


class DigestForm(forms.ModelForm):
    class Meta:
        model = Digest
        fields = ["subject", "preheader", "intro", "intro_en"]
        help_texts = {"intro_en": _("لمشتركي النشرة الإنجليزية؛ إن تُركت فارغة فلا مقدمة في نشرتهم.")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # each reader's links are filled in the footer only
            field.validators = [*field.validators, reject_mail_merge]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.instance.pk:
            # Lock the edition for the rest of this save (the admin wraps it in a transaction):
            # sending's draft/approved -> sending UPDATE waits, and nothing changes once it left.
            try:
                lock_editable(self.instance.pk)
            except DigestError as error:  # gone, or no longer draft/approved
                raise ValidationError(_("لم يعد هذا العدد قابلًا للتعديل (حالته تغيّرت).")) from error
        return cleaned or {}
