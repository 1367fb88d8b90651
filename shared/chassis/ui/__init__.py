"""The portal's shared look: one base template and stylesheet for every server-rendered page.

identity's login and activation pages and the browser UI (gateway/web) extend
``ui/base.html`` so that users see one portal, not a patchwork of sub-portals.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask

UI_DIR = Path(__file__).parent


def register_ui(app: Flask) -> None:
    blueprint = Blueprint(
        "ui",
        __name__,
        template_folder=str(UI_DIR / "templates"),
        static_folder=str(UI_DIR / "static"),
        static_url_path="/ui-static",
    )
    app.register_blueprint(blueprint)
