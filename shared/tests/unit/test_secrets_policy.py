"""One policy for every secret: from the environment; generated (once, kept) only in the embedded mode."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from chassis.config import ConfigurationError, MissingSecret, ServiceSettings, require_secret


def settings(tmp_path: Path, **env: str) -> ServiceSettings:
    return ServiceSettings.from_env("documents", {"BP_DATA_DIR": str(tmp_path), **env})


def test_a_configured_secret_is_used_as_is(tmp_path: Path) -> None:
    assert settings(tmp_path, DOCUMENTS_SECRET_KEY="from-the-vault").required_secret_key() == "from-the-vault"
    assert settings(tmp_path, BP_SECRET_KEY="shared").required_secret_key() == "shared"
    assert not (tmp_path / "secrets").exists()


@pytest.mark.parametrize("mode", [None, "distributed"])
def test_outside_the_embedded_mode_a_missing_secret_stops_the_start(tmp_path: Path, mode: str | None) -> None:
    configured = settings(tmp_path, **({"BP_MODE": mode} if mode else {}))
    assert configured.mode == "distributed"  # the default: nothing is ever invented
    with pytest.raises(MissingSecret) as refused:
        configured.required_secret_key()
    message = str(refused.value)
    assert message.startswith("DOCUMENTS_SECRET_KEY is not set")
    assert "\n" not in message
    with pytest.raises(MissingSecret, match=r"^WEB_SECRET_KEY is not set"):
        require_secret("WEB_SECRET_KEY", "  ", configured)
    assert not (tmp_path / "secrets").exists()


def test_the_embedded_mode_generates_once_and_keeps_it_private(tmp_path: Path) -> None:
    embedded = settings(tmp_path, BP_MODE="embedded")
    first = embedded.required_secret_key()
    assert len(first) >= 32
    # A restart (new settings, same data directory) gets the same key: sessions survive.
    assert settings(tmp_path, BP_MODE="embedded").required_secret_key() == first
    kept = tmp_path / "secrets" / "DOCUMENTS_SECRET_KEY"
    assert kept.read_text() == first
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    # Each name has its own value.
    assert require_secret("WEB_SECRET_KEY", None, embedded) not in ("", first)
    assert sorted(path.name for path in kept.parent.iterdir()) == ["DOCUMENTS_SECRET_KEY", "WEB_SECRET_KEY"]


GENERATE = """
import sys
from chassis.config import ServiceSettings, require_secret
settings = ServiceSettings.from_env("web", {"BP_DATA_DIR": sys.argv[1], "BP_MODE": "embedded"})
print(require_secret("WEB_SECRET_KEY", "", settings))
"""


def test_processes_starting_together_agree_on_one_generated_secret(tmp_path: Path) -> None:
    starters = [
        subprocess.Popen([sys.executable, "-c", GENERATE, str(tmp_path)], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    values = {starter.communicate(timeout=60)[0].strip() for starter in starters}
    assert [starter.returncode for starter in starters] == [0] * 4
    assert values == {(tmp_path / "secrets" / "WEB_SECRET_KEY").read_text()}
    assert [path.name for path in (tmp_path / "secrets").iterdir()] == ["WEB_SECRET_KEY"]  # no leftovers


def test_an_unknown_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="BP_MODE='embeded'"):
        settings(tmp_path, BP_MODE="embeded")
