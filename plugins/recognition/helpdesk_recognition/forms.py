"""Forms (Flask-WTF: each carries a CSRF token). Field names are prefixed by hand, not with a
form prefix, so the CSRF field keeps its usual name on pages that hold several forms."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, Form, HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.validators import InputRequired, NumberRange

from helpdesk.plugin_api import User, active_agents
from helpdesk_recognition.config import MAX_MESSAGE, REACTIONS, value_tags


class KudosForm(FlaskForm):
    # Choices are checked by the service, which says *why* a choice is refused.
    kudos_recipient = SelectField("Colleague", validate_choice=False)
    kudos_message = TextAreaField("Message")
    kudos_value = SelectField("Value (optional)", validate_choice=False)
    kudos_ticket = HiddenField()

    def fill_choices(self, giver: User) -> KudosForm:
        colleagues = [u for u in active_agents() if u.id != giver.id]  # no query: the configuration snapshot
        self.kudos_recipient.choices = [("", "Choose a colleague…")] + [(str(u.id), u.name) for u in colleagues]
        self.kudos_value.choices = [("", "No value tag")] + [(v, v) for v in value_tags()]
        return self

    max_message = MAX_MESSAGE


class ReactionForm(FlaskForm):
    emoji = SelectField("Reaction", choices=list(REACTIONS), validate_choice=False)


class PreferencesForm(FlaskForm):
    visibility = SelectField("Who sees my recognition", choices=[
        ("public", "Everyone: the feed, the leaderboard and my profile"),
        ("private", "Only me and my team lead")], validators=[InputRequired()])
    email_notifications = BooleanField("Email me when I receive kudos or earn a badge")
    digest = BooleanField("Send me the weekly digest of my team's recognition")


class BadgesForm(FlaskForm):
    """The page's CSRF token; each badge's fields are a ``BadgeForm`` prefixed with the badge key."""


class BadgeForm(Form):
    enabled = BooleanField("Enabled")
    threshold = IntegerField("Threshold", validators=[
        InputRequired("Enter a number."), NumberRange(min=1, max=100_000, message="From 1 to 100,000.")])
