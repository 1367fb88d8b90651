"""Test helpers: real PostgreSQL and RabbitMQ (from env URLs or testcontainers), test tokens, an SMTP server,
sample event payloads (samples), polling (waiting), background threads and their clean-up (running),
publishing envelopes (publishing) and Debian's Chromium for Playwright (browser)."""
