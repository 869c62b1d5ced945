"""Forms (Flask-WTF: each carries a CSRF token). Field names are prefixed by hand, not with a
form prefix, so the CSRF field keeps its usual name on pages that hold several forms."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, Form, HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.validators import InputRequired, NumberRange

from helpdesk.plugin_api import User, active_agents, gettext, lazy_gettext
from helpdesk_recognition.config import MAX_MESSAGE, REACTIONS, value_tags


class KudosForm(FlaskForm):
    # Choices are checked by the service, which says *why* a choice is refused.
    kudos_recipient = SelectField(lazy_gettext("Colleague"), validate_choice=False)
    kudos_message = TextAreaField(lazy_gettext("Message"))
    kudos_value = SelectField(lazy_gettext("Value (optional)"), validate_choice=False)
    kudos_ticket = HiddenField()

    def fill_choices(self, giver: User) -> KudosForm:
        colleagues = [u for u in active_agents() if u.id != giver.id]  # no query: the configuration snapshot
        self.kudos_recipient.choices = ([("", gettext("Choose a colleague…"))]
                                        + [(str(u.id), u.name) for u in colleagues])
        self.kudos_value.choices = [("", gettext("No value tag"))] + [(v, v) for v in value_tags()]
        return self

    max_message = MAX_MESSAGE


class ReactionForm(FlaskForm):
    emoji = SelectField(lazy_gettext("Reaction"), choices=list(REACTIONS), validate_choice=False)


class PreferencesForm(FlaskForm):
    visibility = SelectField(lazy_gettext("Who sees my recognition"), choices=[
        ("public", lazy_gettext("Everyone: the feed, the leaderboard and my profile")),
        ("private", lazy_gettext("Only me and my team lead"))], validators=[InputRequired()])
    email_notifications = BooleanField(lazy_gettext("Email me when I receive kudos or earn a badge"))
    digest = BooleanField(lazy_gettext("Send me the weekly digest of my team's recognition"))


class BadgesForm(FlaskForm):
    """The page's CSRF token; each badge's fields are a ``BadgeForm`` prefixed with the badge key."""


class BadgeForm(Form):
    enabled = BooleanField(lazy_gettext("Enabled"))
    threshold = IntegerField(lazy_gettext("Threshold"), validators=[
        InputRequired(lazy_gettext("Enter a number.")),
        NumberRange(min=1, max=100_000, message=lazy_gettext("From 1 to 100,000."))])
