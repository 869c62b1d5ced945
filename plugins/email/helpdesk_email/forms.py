"""Forms of the email plugin's admin pages (Flask-WTF: every one carries a CSRF token)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from helpdesk.plugin_api import gettext, lazy_gettext
from helpdesk_email.models import SECURITY_CHOICES


class ValidEmail:
    """The core's address rules (intranet and test domains are fine)."""

    def __call__(self, form: FlaskForm, field: StringField) -> None:
        from helpdesk.plugin_api import normalise_email, services

        try:
            normalise_email(field.data or "")
        except services.ServiceError as exc:
            raise ValidationError(exc.message) from None


class MailboxForm(FlaskForm):
    name = StringField(lazy_gettext("Name"), validators=[DataRequired(), Length(max=120)])
    host = StringField(lazy_gettext("IMAP server"), validators=[DataRequired(), Length(max=255)])
    port = IntegerField(lazy_gettext("Port"), default=993, validators=[DataRequired(), NumberRange(min=1, max=65535)])
    security = SelectField(lazy_gettext("Security"), default="ssl", choices=[
        ("ssl", lazy_gettext("TLS (usually port 993)")), ("starttls", lazy_gettext("STARTTLS (usually port 143)")),
        ("none", lazy_gettext("None: plain text (only on a trusted network)"))])
    username = StringField(lazy_gettext("User name"), validators=[DataRequired(), Length(max=255)])
    password = PasswordField(lazy_gettext("Password"), validators=[Optional(), Length(max=500)])
    folder = StringField(lazy_gettext("Folder"), default="INBOX", validators=[DataRequired(), Length(max=255)])
    processed_folder = StringField(lazy_gettext("Move processed mail to"), validators=[Optional(), Length(max=255)])
    poll_minutes = IntegerField(lazy_gettext("Poll every (minutes)"), default=5,
                                validators=[DataRequired(), NumberRange(min=1, max=1440)])
    team_id = SelectField(lazy_gettext("Team for new tickets"), coerce=str, validate_choice=False)
    active = BooleanField(lazy_gettext("Active (polled by the worker)"), default=True)

    def validate_security(self, field: SelectField) -> None:
        if field.data not in SECURITY_CHOICES:
            raise ValidationError(gettext("Choose TLS, STARTTLS or none."))


class CreateTicketForm(FlaskForm):
    sender = EmailField(lazy_gettext("Customer's address"), validators=[DataRequired(), ValidEmail(), Length(max=320)])
    subject = StringField(lazy_gettext("Subject"), validators=[DataRequired(), Length(max=250)])


class ConfirmForm(FlaskForm):
    """Only the CSRF token: for POST buttons (retry, delete, test, poll)."""
