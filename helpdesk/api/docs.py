"""The API's browsable reference: a page of our own that renders ``/api/v1/openapi.json``
with a small script served from our static folder (no CDN, works offline)."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("api_docs", __name__)


@bp.get("/api/v1/docs")
def docs():
    return render_template("api/docs.html")
