"""Admin → Webhooks: endpoints (URL, events; the secret shown once), the delivery log,
redelivery, switching an endpoint off and on, and the "allow private targets" setting."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Length

from helpdesk.extensions import db
from helpdesk.i18n import gettext, lazy_gettext
from helpdesk.models import WebhookDelivery, WebhookEndpoint
from helpdesk.services import webhooks
from helpdesk.services.errors import ServiceError
from helpdesk.services.settings import save_site_settings, site_setting
from helpdesk.web.auth import admin_required
from helpdesk.web.forms import ConfirmForm

bp = Blueprint("webhooks", __name__, url_prefix="/admin/webhooks")
LOG_SIZE = 50


class EndpointForm(FlaskForm):
    url = StringField(lazy_gettext("URL"), validators=[
        DataRequired(lazy_gettext("Enter the URL that receives the events.")),
        Length(max=2000, message=lazy_gettext("The URL is too long (2,000 characters at most)."))],
        description=lazy_gettext("https://… of the receiving system. Redirects are not followed."))
    description = StringField(lazy_gettext("Description"), validators=[Length(max=200)],
                              description=lazy_gettext("Optional: what it feeds."))
    events = SelectMultipleField(lazy_gettext("Events"), widget=widgets.ListWidget(prefix_label=False),
                                 option_widget=widgets.CheckboxInput())


class PrivateTargetsForm(FlaskForm):
    allow = BooleanField(lazy_gettext("Allow private, loopback and link-local targets"))


def _endpoint_form(formdata: bool = True) -> EndpointForm:
    form = EndpointForm() if formdata else EndpointForm(formdata=None)
    form.events.choices = [(name, f"{name}: {text}") for name, text in webhooks.all_events().items()]
    return form


def _page(form: EndpointForm, secret: str | None = None, created: WebhookEndpoint | None = None, status: int = 200):
    endpoints = list(db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))
    return render_template("admin/webhooks.html", form=form, endpoints=endpoints, secret=secret, created=created,
                           confirm=ConfirmForm(), private_form=PrivateTargetsForm(
                               formdata=None, allow=bool(site_setting("webhooks_allow_private")))), status


@bp.get("/")
@admin_required
def index():
    return _page(_endpoint_form(formdata=False))


@bp.post("/")
@admin_required
def create():
    form = _endpoint_form()
    if not form.validate_on_submit():
        if not form.events.data:
            form.events.errors = [*form.events.errors, "Choose at least one event to send."]
        return _page(form, status=400)
    try:
        endpoint, secret = webhooks.create_endpoint(form.url.data, form.events.data or [], form.description.data,
                                                    actor=current_user)
    except ServiceError as exc:
        db.session.rollback()
        target = getattr(form, exc.field, None) if exc.field else None
        if target is not None:
            target.errors = [*target.errors, exc.message]
        else:
            form.form_errors.append(exc.message)
        return _page(form, status=400)
    return _page(_endpoint_form(formdata=False), secret=secret, created=endpoint)


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        abort(404)
    return endpoint


def _confirmed() -> None:
    if not ConfirmForm().validate_on_submit():
        abort(400)


@bp.post("/<int:endpoint_id>/toggle")
@admin_required
def toggle(endpoint_id: int):
    _confirmed()
    endpoint = _endpoint(endpoint_id)
    webhooks.set_active(endpoint, not endpoint.active, actor=current_user)
    flash(gettext("%(url)s is switched on.", url=endpoint.url) if endpoint.active
          else gettext("%(url)s is switched off.", url=endpoint.url), "success")
    return redirect(url_for("webhooks.index"))


@bp.get("/<int:endpoint_id>")
@admin_required
def deliveries(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    rows = list(db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
                                   .order_by(WebhookDelivery.id.desc()).limit(LOG_SIZE)))
    return render_template("admin/webhook_deliveries.html", endpoint=endpoint, rows=rows, confirm=ConfirmForm(),
                           log_size=LOG_SIZE)


@bp.post("/deliveries/<int:delivery_id>/redeliver")
@admin_required
def redeliver(delivery_id: int):
    _confirmed()
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        abort(404)
    again = webhooks.redeliver(delivery, actor=current_user)
    flash(gettext("Delivery #%(old)s is sent again as #%(new)s.", old=delivery.id, new=again.id), "success")
    return redirect(url_for("webhooks.deliveries", endpoint_id=delivery.endpoint_id))


@bp.post("/private-targets")
@admin_required
def private_targets():
    form = PrivateTargetsForm()
    if not form.validate_on_submit():
        abort(400)
    save_site_settings({"webhooks_allow_private": bool(form.allow.data)})
    flash(gettext("Private targets are allowed.") if form.allow.data else gettext("Private targets are refused."),
          "success")
    return redirect(url_for("webhooks.index"))


# Last on purpose: the access matrix requests routes in order, and removing comes after the log.
@bp.post("/<int:endpoint_id>/delete")
@admin_required
def delete(endpoint_id: int):
    _confirmed()
    endpoint = _endpoint(endpoint_id)
    url = endpoint.url
    webhooks.delete_endpoint(endpoint, actor=current_user)
    flash(gettext("%(url)s was removed with its delivery log.", url=url), "success")
    return redirect(url_for("webhooks.index"))
