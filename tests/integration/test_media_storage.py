"""Article images in production reach the reader's mail client (issue 22).

moto's standalone S3 server plays the bucket (an S3-compatible store outside the product, as the
ESP emulator plays the ESP). The application runs in its own process with DEBUG off and the
production settings pointed at the bucket: it saves an article with an uploaded image (the
email copy is made and stored, articles.content.images), composes the daily edition and renders its
email. The test then loads the story's <img src> from that email as a mail client would, with
no credentials: it must answer 200 with an image. Before, the image stayed on the web machine's
disk at SITE_URL/media/..., which nothing serves with DEBUG off.
"""

from __future__ import annotations

import html
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import requests
from django.conf import settings as django_settings
from PIL import Image

from tests.config.test_settings import PRODUCTION_ENV, run_manage
from tests.integration.conftest import ROOT, database_url

pytestmark = pytest.mark.integration
MOTO_SERVER = str(Path(sys.executable).with_name("moto_server"))
BUCKET = "newsroom-media"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "integration-key", "AWS_SECRET_ACCESS_KEY": "integration-secret"}

# Run by the application's own process (DEBUG off): one article with an uploaded photo the most
# read of the day, two more beside it, the daily edition composed and its Arabic email rendered.
APP_CODE = """
import io, json
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from articles.content.services import save_article
from newsletter.editions import compose
from newsletter.email.render import Segment, render_digest
from tests.newsletter.digest_helpers import article, ranked_articles

ranked_articles(2)
lead = article("صورة اليوم من بغداد", readers=5000)
photo = io.BytesIO()
Image.linear_gradient("L").resize((1200, 800)).convert("RGB").save(photo, "PNG")
lead.image = SimpleUploadedFile("صورة-اليوم.png", photo.getvalue(), content_type="image/png")
lead.image_alt = "جسر الجمهورية"
save_article(lead)
html = render_digest(compose.compose(frequency="daily"), Segment(language="ar")).html
print(json.dumps({"html": html, "image": lead.image.url}))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def s3_server() -> Iterator[str]:
    """moto_server on a free port of 127.0.0.1, stopped (by its own process group) afterwards."""
    port = _free_port()
    process = subprocess.Popen(
        [MOTO_SERVER, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{url}/moto-api/", timeout=2)
                break
            except requests.ConnectionError:
                assert process.poll() is None and time.monotonic() < deadline, "moto_server did not start"
                time.sleep(0.2)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def public_bucket(endpoint: str) -> None:
    """A bucket anyone may read objects from (the public-read style the settings document)."""
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **_boto_credentials())
    s3.create_bucket(Bucket=BUCKET)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/*",
            }
        ],
    }
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))


def _boto_credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }


def test_the_digest_email_links_its_story_image_to_a_url_a_mail_client_can_load(transactional_db, s3_server) -> None:
    public_bucket(s3_server)
    env = {
        **PRODUCTION_ENV,
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "AWS_S3_ENDPOINT_URL": s3_server,
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_S3_CUSTOM_DOMAIN": "",
        **CREDENTIALS,
        "DATABASE_URL": database_url(),
        "REDIS_URL": django_settings.REDIS_URL,
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "WARNING",
    }
    result = run_manage("shell", "--no-imports", "-c", APP_CODE, env=env, timeout=90)
    assert result.returncode == 0, result.stderr[-3000:]
    rendered = json.loads(result.stdout.strip().splitlines()[-1])

    images = [tag for tag in re.findall(r"<img\b[^>]*>", rendered["html"]) if "story-image" in tag]
    assert len(images) == 1, rendered["html"][-3000:]  # the lead story's, the one shown with its image
    src = html.unescape(re.search(r'\ssrc="([^"]+)"', images[0]).group(1))
    try:
        response = requests.get(src, timeout=10)  # a mail client: no cookie, no credentials
    except requests.RequestException as error:
        pytest.fail(f"the email's image {src} cannot be loaded: {error!r}")
    assert response.status_code == 200, f"{src}: {response.status_code}"
    assert response.headers["Content-Type"].startswith("image/"), response.headers
    assert "?" not in src  # unsigned: the link in the email does not expire
    # It is the email copy (re-encoded, at most 600 px wide), not the 1200 px upload.
    with Image.open(io.BytesIO(response.content)) as copy:
        assert copy.size == (600, 400) and copy.format == "JPEG"
    # The upload itself went to the bucket too, and the article page links to it there.
    assert requests.get(rendered["image"], timeout=10).headers["Content-Type"] == "image/png"
