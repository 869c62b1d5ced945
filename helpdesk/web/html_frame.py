"""A message's HTML body, served so that nothing in it can run: the inside of a sandboxed frame.

Mail written in HTML is shown as the sender wrote it, but the HTML was sanitised when it was
stored (nh3) and is sanitised again here (what we serve is decided now, not when the mail
came), and the response forbids everything else by policy:

- the page that embeds it uses ``<iframe sandbox>`` without ``allow-scripts`` or
  ``allow-same-origin``: no script runs, and the frame has no access to our cookies or pages;
- the response's own ``Content-Security-Policy`` is ``default-src 'none'`` with a
  ``sandbox`` directive, so opening the URL directly is just as inert; images only from our
  attachment downloads (no tracking pixels, no remote content); our one small style sheet
  by hash, the mail's styles never;
- ``frame-ancestors 'self'``: only our own pages may frame it.
"""
from __future__ import annotations

import base64
import hashlib

import nh3
from flask import Response, request
from markupsafe import escape

# Our own look for the frame: readable text, wide images shrunk. Allowed by its hash.
FRAME_STYLE = ("body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:14px;"
               "line-height:1.5;margin:0;color:#212529;overflow-wrap:anywhere}img{max-width:100%;height:auto}"
               "table{max-width:100%}blockquote{margin:0 0 0 .5rem;padding-left:.5rem;border-left:2px solid #ccc;"
               "color:#6c757d}")
_STYLE_HASH = base64.b64encode(hashlib.sha256(FRAME_STYLE.encode()).digest()).decode()
ATTACHMENT_PATH = "/attachments/"
# nh3's defaults: never script, style, forms, frames, media or embedded objects; ``img`` only
# with one of our attachment URLs (below).
TAGS = nh3.ALLOWED_TAGS


def _only_our_images(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if value.startswith(ATTACHMENT_PATH) else None
    return value


def frame_csp() -> str:
    images = request.host_url.rstrip("/") + ATTACHMENT_PATH
    return ("default-src 'none'; "
            f"img-src {images}; "
            f"style-src 'sha256-{_STYLE_HASH}'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; "
            "sandbox allow-popups allow-popups-to-escape-sandbox")


def html_frame(body_html: str, title: str = "Message") -> Response:
    """The response for a message's HTML body (see the module's docstring)."""
    clean = nh3.clean(body_html, tags=TAGS, attribute_filter=_only_our_images)
    document = ("<!doctype html><html><head><meta charset=\"utf-8\">"
                f"<title>{escape(title)}</title><base target=\"_blank\">"
                f"<style>{FRAME_STYLE}</style></head><body>{clean}</body></html>")
    response = Response(document, mimetype="text/html")
    response.headers["Content-Security-Policy"] = frame_csp()
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
