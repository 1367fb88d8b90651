"""What every page needs: the user's services client."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, current_app

from gateway.web.auth import current_token_set
from gateway.web.services import Services

ServicesFactory = Callable[[str], Services]


def services() -> Services:
    """The services' APIs as the signed-in user (their access token, refreshed when due)."""
    token_set = current_token_set()
    if token_set is None:
        abort(401)
    factory: ServicesFactory = current_app.extensions["web.services_factory"]
    return factory(token_set.access_token)
