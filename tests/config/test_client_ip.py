"""sitewide.client_ip: X-Forwarded-For believed only from TRUSTED_PROXIES, rightmost untrusted
entry wins; limit_key groups IPv6 by /64."""

from __future__ import annotations

import pytest

from sitewide.client_ip import client_ip, limit_key

PROXIES = ["10.0.0.0/8", "192.168.1.1", "2001:db8:ffff::/48"]


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        # Directly reached (REMOTE_ADDR not a proxy): the header is anyone's to forge.
        ("203.0.113.5", "1.2.3.4", "203.0.113.5"),
        ("203.0.113.5", None, "203.0.113.5"),
        # Through our proxy: the rightmost entry that is not one of ours.
        ("10.0.0.2", "198.51.100.7", "198.51.100.7"),
        ("10.0.0.2", "1.2.3.4, 198.51.100.7", "198.51.100.7"),  # 1.2.3.4 written by the client
        ("10.0.0.2", "1.2.3.4, 198.51.100.7, 10.9.9.9, 192.168.1.1", "198.51.100.7"),
        ("10.0.0.2", "garbage, 198.51.100.7", "198.51.100.7"),
        ("10.0.0.2", "198.51.100.7:51234", "198.51.100.7"),
        ("10.0.0.2", "[2001:db8:1::7]:443", "2001:db8:1::7"),
        ("10.0.0.2", "2001:DB8:1:0::7", "2001:db8:1::7"),
        ("10.0.0.2", "10.5.5.5, 10.0.0.9", "10.5.5.5"),  # internal client: all hops ours
        ("10.0.0.2", "", "10.0.0.2"),
        ("10.0.0.2", None, "10.0.0.2"),
        ("::ffff:10.0.0.2", "198.51.100.7", "198.51.100.7"),  # dual-stack socket
        ("2001:db8:ffff::1", "2001:db8:1::7", "2001:db8:1::7"),
        ("unix:/run/gunicorn.sock", "198.51.100.7", "unix:/run/gunicorn.sock"),
        ("", "198.51.100.7", ""),
    ],
)
def test_client_ip(remote: str, forwarded: str | None, expected: str, settings) -> None:
    settings.TRUSTED_PROXIES = PROXIES
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    assert client_ip(meta) == expected


def test_without_trusted_proxies_the_header_is_ignored(settings) -> None:
    settings.TRUSTED_PROXIES = []
    assert client_ip({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.7"}) == "127.0.0.1"


@pytest.mark.parametrize(
    ("ip", "key"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("", ""),
    ],
)
def test_limit_key(ip: str, key: str) -> None:
    assert limit_key(ip) == key


def test_an_invalid_trusted_proxy_refuses_to_start() -> None:
    from tests.config.test_settings import run_manage

    result = run_manage("check", env={"TRUSTED_PROXIES": "10.0.0.0/8,10.0.0.300"})
    assert result.returncode != 0
    assert "TRUSTED_PROXIES: '10.0.0.300' is not an IP address or CIDR network" in result.stderr
