"""The Bildungsportal service chassis.

Every service imports the same building blocks from here so that a reader who
knows one service knows them all: configuration from the environment, the Flask
app factory, RFC 9457 problem details, the SQLAlchemy unit of work, the event
bus (transactional outbox, relay, idempotent consumers) and token validation.
"""
