"""The plugin's forms (Flask-WTF: each carries a CSRF token)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from helpdesk.plugin_api import lazy_gettext
from helpdesk_surveys.models import TRIGGERS


class AnswerForm(FlaskForm):
    score = IntegerField(lazy_gettext("Your answer"),
                         validators=[InputRequired(message=lazy_gettext("Choose a score."))])
    # Filled in by the page's script (the browser's time zone), for quiet hours next time.
    tz = HiddenField()


class CommentForm(FlaskForm):
    comment = TextAreaField(lazy_gettext("Anything you would like to add?"),
                            validators=[DataRequired(message=lazy_gettext("Write a comment, or just close this page.")),
                                        Length(max=5000)])


class ConfirmForm(FlaskForm):
    """Only the CSRF token: for actions behind one button."""


class FeedbackForm(FlaskForm):
    comment = TextAreaField(lazy_gettext("Your feedback"), validators=[
        DataRequired(message=lazy_gettext("Tell us what you think: the feedback is empty.")), Length(max=5000)])


class CaseForm(FlaskForm):
    owner_id = SelectField(lazy_gettext("Owner"), coerce=int, validators=[Optional()])
    contacted = BooleanField(lazy_gettext("I contacted the customer"))
    remedy = TextAreaField(lazy_gettext("Remedy offered"), validators=[Length(max=5000)])
    outcome = TextAreaField(lazy_gettext("Outcome"), validators=[Length(max=5000)])


class TypeForm(FlaskForm):
    enabled = BooleanField(lazy_gettext("Send this survey"))
    trigger = SelectField(lazy_gettext("When"), choices=[
        (TRIGGERS[0], lazy_gettext("After a ticket is resolved")),
        (TRIGGERS[1], lazy_gettext("Periodically to active customers (relationship)"))])
    delay_minutes = IntegerField(lazy_gettext("Delay (minutes)"),
                                 validators=[InputRequired(), NumberRange(min=0, max=60 * 24 * 30)])
    interval_days = IntegerField(lazy_gettext("Ask each customer again after (days)"),
                                 validators=[InputRequired(), NumberRange(min=1, max=3650)])
    active_days = IntegerField(lazy_gettext("Active customers: a ticket within (days)"),
                               validators=[InputRequired(), NumberRange(min=1, max=3650)])
    team_ids = SelectMultipleField(lazy_gettext("Teams"), coerce=int, validators=[Optional()])
    channels = StringField(lazy_gettext("Channels"), validators=[Length(max=300)])
    question = StringField(lazy_gettext("Question"), validators=[DataRequired(), Length(max=300)])
    subject = StringField(lazy_gettext("Email subject"), validators=[DataRequired(), Length(max=300)])
    body = TextAreaField(lazy_gettext("Message"), validators=[DataRequired(), Length(max=5000)])
