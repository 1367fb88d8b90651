"""Test helpers: real PostgreSQL and RabbitMQ (from env URLs or testcontainers), test tokens, an SMTP server."""
