"""Subscriber-facing URLs: signup, confirmation, preferences, unsubscribe, embeddable box.
The names signup, confirm, preferences and unsubscribe (with a `token` kwarg) are used by
newsletter.subscribers.token_links to build the links in emails."""

from django.urls import path

from . import unsubscribe_views, views

app_name = "newsletter"

urlpatterns = [
    path("", views.signup, name="signup"),
    path("embed/", views.embed, name="embed"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("confirm/<str:token>/resend/", views.confirm_resend, name="confirm-resend"),
    path("preferences/<str:token>/", views.preferences, name="preferences"),
    path("preferences/<str:token>/less/<str:kind>/<int:target_id>/", views.less_undo, name="less-undo"),
    path("unsubscribe/<str:token>/", unsubscribe_views.unsubscribe, name="unsubscribe"),
    path("unsubscribe/<str:token>/weekly/", unsubscribe_views.weekly_instead, name="weekly-instead"),
    path("unsubscribe/<str:token>/reason/", unsubscribe_views.unsubscribe_reason, name="unsubscribe-reason"),
    path("unsubscribe/<str:token>/resubscribe/", unsubscribe_views.resubscribe, name="resubscribe"),
    path("alerts/unsubscribe/<str:token>/", unsubscribe_views.alerts_unsubscribe, name="alerts-unsubscribe"),
]
