"""The plugin's one blueprint: public survey links under ``/s/``, everything else under ``/surveys/``."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("surveys", __name__, template_folder="templates", static_folder="static",
               static_url_path="/surveys/static")
