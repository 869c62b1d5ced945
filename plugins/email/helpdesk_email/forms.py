"""Forms of the email plugin's admin pages (Flask-WTF: every one carries a CSRF token)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

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
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    host = StringField("IMAP server", validators=[DataRequired(), Length(max=255)])
    port = IntegerField("Port", default=993, validators=[DataRequired(), NumberRange(min=1, max=65535)])
    security = SelectField("Security", default="ssl", choices=[
        ("ssl", "TLS (usually port 993)"), ("starttls", "STARTTLS (usually port 143)"),
        ("none", "None: plain text (only on a trusted network)")])
    username = StringField("User name", validators=[DataRequired(), Length(max=255)])
    password = PasswordField("Password", validators=[Optional(), Length(max=500)])
    folder = StringField("Folder", default="INBOX", validators=[DataRequired(), Length(max=255)])
    processed_folder = StringField("Move processed mail to", validators=[Optional(), Length(max=255)])
    poll_minutes = IntegerField("Poll every (minutes)", default=5,
                                validators=[DataRequired(), NumberRange(min=1, max=1440)])
    team_id = SelectField("Team for new tickets", coerce=str, validate_choice=False)
    active = BooleanField("Active (polled by the worker)", default=True)

    def validate_security(self, field: SelectField) -> None:
        if field.data not in SECURITY_CHOICES:
            raise ValidationError("Choose TLS, STARTTLS or none.")


class CreateTicketForm(FlaskForm):
    sender = EmailField("Customer's address", validators=[DataRequired(), ValidEmail(), Length(max=320)])
    subject = StringField("Subject", validators=[DataRequired(), Length(max=250)])


class ConfirmForm(FlaskForm):
    """Only the CSRF token: for POST buttons (retry, delete, test, poll)."""
