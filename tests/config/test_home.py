"""The home page is Arabic and right-to-left."""

import pytest
from django.test import Client


@pytest.mark.django_db
def test_home_page_is_rtl_arabic(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert '<html lang="ar" dir="rtl">' in response.content.decode()
