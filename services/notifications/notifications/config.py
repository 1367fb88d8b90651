"""Configuration from the environment: the chassis settings plus this service's SMTP and retry knobs.

Service variables are ``NOTIFICATIONS_<NAME>``; they arrive as ``settings.extra["<NAME>"]`` and
``MailSettings.from_extra`` reads them into typed settings, which the bootstrap hands to the runtime.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from chassis.config import ServiceSettings, env_bool, env_float, env_int

SERVICE_NAME = "notifications"
DEFAULT_MAIL_FROM = "Bildungsportal der IHK <noreply@bildungsportal.example>"


def settings() -> ServiceSettings:
    return ServiceSettings.from_env(SERVICE_NAME)


@dataclass(frozen=True)
class MailSettings:
    """Where and how mails leave. The password is kept out of ``repr`` so it never reaches a log."""

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_timeout: float = 10.0
    # A kept-open SMTP session unused this long is closed (servers drop idle ones after minutes).
    smtp_session_idle: float = 30.0
    mail_from: str = DEFAULT_MAIL_FROM
    # The sender loop: how often it looks for due mails when nobody wakes it.
    poll_interval: float = 1.0
    # Mails the sender claims at most at once (split among its sessions), recorded batch by batch.
    batch_size: int = 100
    # SMTP sessions sending side by side, each with its own batches (together at most batch_size).
    sessions: int = 2
    # Woken by a commit that queued mail, the sender waits this long for more before claiming.
    gather: float = 0.1
    # Retries: delay = min(retry_base * 2**(attempt-1), retry_max); give up after max_attempts.
    max_attempts: int = 8
    retry_base: float = 5.0
    retry_max: float = 900.0
    # A claimed mail is invisible to other senders this long; a sender that dies
    # mid-send leaves it to be retried after the lease (same Message-ID).
    lease: float = 300.0

    @classmethod
    def from_extra(cls, extra: Mapping[str, str]) -> MailSettings:
        try:
            settings = cls(
                smtp_host=extra.get("SMTP_HOST") or cls.smtp_host,
                smtp_port=env_int(extra, "SMTP_PORT", cls.smtp_port),
                smtp_starttls=env_bool(extra, "SMTP_STARTTLS", cls.smtp_starttls),
                smtp_user=extra.get("SMTP_USER") or None,
                smtp_password=extra.get("SMTP_PASSWORD") or None,
                smtp_timeout=env_float(extra, "SMTP_TIMEOUT", cls.smtp_timeout),
                smtp_session_idle=env_float(extra, "SMTP_SESSION_IDLE", cls.smtp_session_idle),
                mail_from=extra.get("MAIL_FROM") or DEFAULT_MAIL_FROM,
                poll_interval=env_float(extra, "MAIL_POLL_INTERVAL", cls.poll_interval),
                batch_size=env_int(extra, "MAIL_BATCH_SIZE", cls.batch_size),
                sessions=env_int(extra, "MAIL_SESSIONS", cls.sessions),
                gather=env_float(extra, "MAIL_GATHER", cls.gather),
                max_attempts=env_int(extra, "MAIL_MAX_ATTEMPTS", cls.max_attempts),
                retry_base=env_float(extra, "MAIL_RETRY_BASE", cls.retry_base),
                retry_max=env_float(extra, "MAIL_RETRY_MAX", cls.retry_max),
                lease=env_float(extra, "MAIL_LEASE", cls.lease),
            )
            for name, value in (
                ("MAIL_BATCH_SIZE", settings.batch_size),
                ("MAIL_SESSIONS", settings.sessions),
            ):
                if value < 1:
                    raise ValueError(f"NOTIFICATIONS_{name} must be at least 1, not {value}")
        except ValueError as exc:
            # Only numbers and flags are parsed, so the message holds no secret.
            raise ValueError(f"invalid NOTIFICATIONS_* mail setting: {exc}") from exc
        return settings
