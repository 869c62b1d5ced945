"""Forms (Flask-WTF: every one carries a CSRF token)."""
from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from helpdesk.addresses import normalise_email
from helpdesk.errors import ServiceError
from helpdesk.i18n import PRIORITY_NAMES, ROLE_NAMES, STATUS_NAMES, gettext, lazy_gettext
from helpdesk.languages import LANGUAGES
from helpdesk.models.tickets import PRIORITIES, STATUSES
from helpdesk.models.users import ROLES


class Email:
    """WTForms validator using the same rules as the services (intranet domains allowed)."""

    def __call__(self, form, field) -> None:
        try:
            normalise_email(field.data or "")
        except ServiceError as exc:
            raise ValidationError(exc.message) from None


class LoginForm(FlaskForm):
    email = EmailField(lazy_gettext("Email"), validators=[DataRequired(), Email(), Length(max=320)])
    password = PasswordField(lazy_gettext("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(lazy_gettext("Keep me signed in"))


class MagicLinkForm(FlaskForm):
    email = EmailField(lazy_gettext("Email"), validators=[DataRequired(), Email(), Length(max=320)])


class ConfirmForm(FlaskForm):
    """A form with only the CSRF token: for POST-only actions behind a button."""


class SignupForm(FlaskForm):
    name = StringField(lazy_gettext("Your name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(lazy_gettext("Email"), validators=[DataRequired(), Email(), Length(max=320)])
    password = PasswordField(lazy_gettext("Password"), validators=[DataRequired(), Length(min=8, max=200)])


def _known_zone(form, field) -> None:
    if field.data:
        try:
            ZoneInfo(field.data)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(gettext("Unknown time zone “%(zone)s”: use a name like Europe/Berlin or UTC.",
                                          zone=field.data)) from None


class ProfileForm(FlaskForm):
    """What a signed-in person may change about themselves."""

    name = StringField(lazy_gettext("Your name"), validators=[DataRequired(), Length(max=200)])
    timezone = StringField(lazy_gettext("Time zone (empty: the helpdesk's)"),
                           validators=[Optional(), Length(max=64), _known_zone],
                           filters=[lambda v: (v or "").strip()])
    # Not sent (an older form, a script): unchanged, so no choice check here; the view keeps known ones only.
    language = SelectField(lazy_gettext("Language"),
                           choices=[("", lazy_gettext("Your browser's"))] + list(LANGUAGES.items()),
                           validate_choice=False)
    updates = BooleanField(lazy_gettext("Send me announcements (changes, outages, new features)"))


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(lazy_gettext("Current password"), validators=[Optional(), Length(max=200)])
    new_password = PasswordField(lazy_gettext("New password"), validators=[DataRequired(), Length(min=8, max=200)])
    confirm = PasswordField(lazy_gettext("New password again"), validators=[
        DataRequired(), EqualTo("new_password", message=lazy_gettext("The two new passwords differ."))])


class AttachmentsField(MultipleFileField):
    """File inputs that carry the upload limits (``data-max-bytes``: each file,
    ``data-max-total``: the whole request), so the page's script says a file is too large
    before anything is uploaded; the server checks again (``web/uploads.py``)."""

    def __call__(self, **kwargs: Any) -> Any:
        kwargs.setdefault("data-max-bytes", current_app.config["MAX_ATTACHMENT_BYTES"])
        if current_app.config.get("MAX_CONTENT_LENGTH"):
            kwargs.setdefault("data-max-total", current_app.config["MAX_CONTENT_LENGTH"])
        return super().__call__(**kwargs)


class NewTicketForm(FlaskForm):
    subject = StringField(lazy_gettext("Subject"), validators=[DataRequired(), Length(max=250)])
    body = TextAreaField(lazy_gettext("Message"), validators=[DataRequired(), Length(max=100_000)])
    attachments = AttachmentsField(lazy_gettext("Attachments"))


class CustomerReplyForm(FlaskForm):
    body = TextAreaField(lazy_gettext("Your reply"), validators=[DataRequired(), Length(max=100_000)])
    attachments = AttachmentsField(lazy_gettext("Attachments"))


class ReplyForm(FlaskForm):
    body = TextAreaField(lazy_gettext("Message"), validators=[DataRequired(), Length(max=100_000)])
    internal = BooleanField(lazy_gettext("Internal note (not shown to the customer)"))
    send_anyway = BooleanField(lazy_gettext("Send anyway"))
    attachments = AttachmentsField(lazy_gettext("Attachments"))
    status_after = SelectField(lazy_gettext("Then set status"), choices=[("", lazy_gettext("keep status"))] + [
        (s, STATUS_NAMES[s]) for s in ("open", "pending", "resolved")], validators=[Optional()])
    # What the page showed ("<last message id>:<ticket version>:<last audit id>"): a reply
    # written while something new happened asks first (helpdesk.web.collisions).
    seen = HiddenField()


class TicketFieldsForm(FlaskForm):
    status = SelectField(lazy_gettext("Status"), choices=[(s, STATUS_NAMES.get(s, s)) for s in STATUSES])
    priority = SelectField(lazy_gettext("Priority"), choices=[(p, PRIORITY_NAMES.get(p, p)) for p in PRIORITIES])
    assignee_id = SelectField(lazy_gettext("Assignee"), coerce=str, validate_choice=False)
    team_id = SelectField(lazy_gettext("Team"), coerce=str, validate_choice=False)
    tags = StringField(lazy_gettext("Tags (comma separated)"), validators=[Length(max=500)])
    # What the form showed: a save from an older version is refused (someone changed the
    # ticket meanwhile); the audit mark says from where "what changed" starts.
    version = HiddenField()
    audit_mark = HiddenField()


class BulkForm(FlaskForm):
    ticket_ids = SelectMultipleField(lazy_gettext("Tickets"), coerce=int, validate_choice=False)
    action = SelectField(lazy_gettext("Action"), choices=[
        ("status", lazy_gettext("Set status")), ("priority", lazy_gettext("Set priority")),
        ("assign", lazy_gettext("Assign to")), ("team", lazy_gettext("Move to team")), ("tag", lazy_gettext("Add tag")),
        ("close", lazy_gettext("Close")), ("merge", lazy_gettext("Merge into")),
        ("spam", lazy_gettext("Mark as spam"))], validate_choice=True)
    value = StringField(lazy_gettext("Value"), validators=[Length(max=100)])


class SavedViewForm(FlaskForm):
    name = StringField(lazy_gettext("Name"), validators=[DataRequired(), Length(max=80)])
    query = StringField(lazy_gettext("Query"), validators=[Length(max=1000)])


class UserForm(FlaskForm):
    name = StringField(lazy_gettext("Name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(lazy_gettext("Email"), validators=[DataRequired(), Email(), Length(max=320)])
    role = SelectField(lazy_gettext("Role"), choices=[(r, ROLE_NAMES.get(r, r)) for r in ROLES])
    password = PasswordField(lazy_gettext("Password (leave empty to keep)"),
                             validators=[Optional(), Length(min=8, max=200)])
    active = BooleanField(lazy_gettext("Active"), default=True)
    available = BooleanField(lazy_gettext("Available for new tickets (automatic assignment)"), default=True)
    teams = SelectMultipleField(lazy_gettext("Teams"), coerce=int, validate_choice=False)
    team_scoped = BooleanField(lazy_gettext("Sees only tickets of their teams"), default=False)


class TeamForm(FlaskForm):
    name = StringField(lazy_gettext("Name"), validators=[DataRequired(), Length(max=120)])
    description = StringField(lazy_gettext("Description"), validators=[Length(max=500)])
    lead_id = SelectField(lazy_gettext("Team lead"), coerce=str, validate_choice=False)
    members = SelectMultipleField(lazy_gettext("Members"), coerce=int, validate_choice=False)
    assignment_strategy = SelectField(lazy_gettext("Assign new tickets"), choices=[
        ("manual", lazy_gettext("Manually")), ("round_robin", lazy_gettext("Round robin among available members")),
        ("least_loaded", lazy_gettext("To the available member with the fewest open tickets"))], default="manual")
    max_open_per_agent = IntegerField(lazy_gettext("At most this many open tickets per agent (empty: no cap)"),
                                      validators=[Optional(), NumberRange(min=1, max=10_000)])
    business_hours_id = SelectField(lazy_gettext("Business hours (service-level clocks)"), coerce=str,
                                    validate_choice=False)


class TagForm(FlaskForm):
    name = StringField(lazy_gettext("Tag"), validators=[DataRequired(), Length(max=60)])


class CannedReplyForm(FlaskForm):
    title = StringField(lazy_gettext("Title"), validators=[DataRequired(), Length(max=120)])
    body = TextAreaField(lazy_gettext("Text"), validators=[DataRequired(), Length(max=20_000)])


class SiteSettingsForm(FlaskForm):
    helpdesk_name = StringField(lazy_gettext("Helpdesk name"), validators=[DataRequired(), Length(max=100)])
    mail_from = EmailField(lazy_gettext("Reply-from address"), validators=[DataRequired(), Length(max=320)])
    reopen_window_days = IntegerField(lazy_gettext("Reopen window (days)"),
                                      validators=[InputRequired(), NumberRange(min=0, max=365)])
    closed_means_closed = BooleanField(
        lazy_gettext("Closed means closed: a reply to a closed ticket opens a new, linked one"))
    notices_per_recipient_per_hour = IntegerField(lazy_gettext("Automatic notices per customer per hour"),
                                                  validators=[Optional(), NumberRange(min=0, max=100)])
    timezone = StringField(lazy_gettext("Time zone"), validators=[Optional(), Length(max=64)],
                           filters=[lambda v: (v or "").strip() or "UTC"])

    def validate_mail_from(self, field) -> None:
        """A real address; or, unchanged, the install's own placeholder (``MAIL_FROM``, by
        default ``support@helpdesk.invalid``): a reserved domain no mail reaches, which the
        address rules refuse, but refusing it made a fresh install's settings unsaveable."""
        if (field.data or "").strip().lower() == str(current_app.config.get("MAIL_FROM", "")).strip().lower():
            return
        Email()(self, field)

    def validate_timezone(self, field) -> None:
        try:
            ZoneInfo(field.data)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(gettext("Unknown time zone “%(zone)s”: use a name like Europe/Berlin or UTC.",
                                          zone=field.data)) from None


class MergeCustomerForm(FlaskForm):
    target_id = IntegerField(lazy_gettext("Number of the duplicate customer to fold into this one"),
                             validators=[DataRequired()])


class MergeTicketForm(FlaskForm):
    target = StringField(lazy_gettext("Merge this ticket into (reference)"),
                         validators=[DataRequired(), Length(max=30)])


class SplitForm(FlaskForm):
    subject = StringField(lazy_gettext("Subject of the new ticket"), validators=[Optional(), Length(max=250)])


class IdentityForm(FlaskForm):
    kind = SelectField(lazy_gettext("Kind"), choices=[
        ("email", lazy_gettext("Email")), ("phone", lazy_gettext("Phone")), ("chat", lazy_gettext("Chat")),
        ("social", lazy_gettext("Social handle"))])
    value = StringField(lazy_gettext("Value"), validators=[DataRequired(), Length(max=320)])
