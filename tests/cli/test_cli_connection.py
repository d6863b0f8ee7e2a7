"""Connection settings as a user meets them: missing key, refused key, plain-http URLs."""

from __future__ import annotations

import base64

import pytest
from click.testing import CliRunner

from closecsv.cli import main
from closecsv.close.config import ApiKey, load_settings, normalize_api_url
from closecsv.errors import ConfigError
from closecsv.sandbox import SANDBOX_API_KEY


def test_missing_key_exits_2_naming_the_variable() -> None:
    result = CliRunner().invoke(main, ["--api-url", "http://127.0.0.1:9/api/v1/", "schema"])
    assert result.exit_code == 2
    assert "CLOSE_API_KEY" in result.stderr
    assert result.stdout == ""


def test_refused_key_exits_3_without_echoing_it(sandbox_url: str) -> None:
    key = "wrong-key-4242-do-not-echo"
    result = CliRunner().invoke(main, ["--api-url", sandbox_url, "--api-key", key, "schema"])
    assert result.exit_code == 3
    assert "authentication refused" in result.stderr
    encoded = base64.b64encode(f"{key}:".encode()).decode()
    for stream in (result.stdout, result.stderr):
        assert key not in stream
        assert encoded not in stream


def test_key_from_environment_is_used(sandbox_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOSE_API_KEY", SANDBOX_API_KEY)
    monkeypatch.setenv("CLOSE_API_URL", sandbox_url)
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0, result.stderr
    assert "Discovery Call" in result.stdout


@pytest.mark.parametrize(
    "url",
    [
        "http://api.close.com/api/v1/",
        "http://10.0.0.5:8765/api/v1/",
        "ftp://127.0.0.1/",
        "nonsense",
    ],
)
def test_plain_http_outside_loopback_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="http"):
        normalize_api_url(url)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8765/api/v1", "http://127.0.0.1:8765/api/v1/"),
        ("http://localhost:1/api/v1/", "http://localhost:1/api/v1/"),
        ("http://[::1]:8765/api/v1/", "http://[::1]:8765/api/v1/"),
        ("https://api.close.com/api/v1/", "https://api.close.com/api/v1/"),
    ],
)
def test_https_and_loopback_urls_are_accepted(url: str, expected: str) -> None:
    assert normalize_api_url(url) == expected


def test_the_key_never_shows_in_repr_or_str() -> None:
    settings = load_settings("secret-value-123", None, environ={})
    assert "secret-value-123" not in repr(settings)
    assert "secret-value-123" not in str(settings.api_key)
    assert settings.api_key.reveal() == "secret-value-123"
    assert ApiKey("a") == ApiKey("a")


def test_option_wins_over_environment() -> None:
    settings = load_settings("from-option", None, environ={"CLOSE_API_KEY": "from-env"})
    assert settings.api_key.reveal() == "from-option"
    assert settings.api_url == "https://api.close.com/api/v1/"


def test_a_key_pasted_with_whitespace_works(
    sandbox_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/ADVERSARIAL.md I7: a key read from a file or a paste keeps its newline."""
    monkeypatch.setenv("CLOSE_API_KEY", f"  {SANDBOX_API_KEY}\n")
    result = CliRunner().invoke(main, ["--api-url", sandbox_url, "schema"])
    assert result.exit_code == 0, result.stderr


def test_a_refused_pasted_key_is_not_echoed(
    sandbox_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "pasted-wrong-key-31337"
    monkeypatch.setenv("CLOSE_API_KEY", f"{key}\r\n")
    result = CliRunner().invoke(main, ["--api-url", sandbox_url, "schema"])
    assert result.exit_code == 3
    assert key not in result.stderr and key not in result.stdout


@pytest.mark.parametrize(
    "url",
    [
        "https://{key}@api.close.com/api/v1/",
        "https://{key}:@api.close.com/api/v1/",
        "http://user:{key}@127.0.0.1:8765/api/v1/",
        "ftp://{key}@api.close.com/",
        "{key}@api.close.com/api/v1/",
    ],
)
def test_a_url_carrying_the_key_is_refused_without_echoing_it(url: str) -> None:
    key = "api_KeyPastedIntoTheUrl.31337"
    given = url.format(key=key)
    with pytest.raises(ConfigError) as info:
        normalize_api_url(given)
    assert key not in str(info.value) and "***@" in str(info.value)
    result = CliRunner().invoke(main, ["--api-url", given, "schema"], env={"CLOSE_API_KEY": "k"})
    assert result.exit_code == 2
    assert key not in result.stderr and key not in result.stdout
    assert "carries a user name or key before '@'" in result.stderr
    assert "CLOSE_API_KEY" in result.stderr
