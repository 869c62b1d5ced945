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

from helpdesk_surveys.models import TRIGGERS


class AnswerForm(FlaskForm):
    score = IntegerField("Your answer", validators=[InputRequired(message="Choose a score.")])
    # Filled in by the page's script (the browser's time zone), for quiet hours next time.
    tz = HiddenField()


class CommentForm(FlaskForm):
    comment = TextAreaField("Anything you would like to add?",
                            validators=[DataRequired(message="Write a comment, or just close this page."),
                                        Length(max=5000)])


class ConfirmForm(FlaskForm):
    """Only the CSRF token: for actions behind one button."""


class FeedbackForm(FlaskForm):
    comment = TextAreaField("Your feedback", validators=[
        DataRequired(message="Tell us what you think: the feedback is empty."), Length(max=5000)])


class CaseForm(FlaskForm):
    owner_id = SelectField("Owner", coerce=int, validators=[Optional()])
    contacted = BooleanField("I contacted the customer")
    remedy = TextAreaField("Remedy offered", validators=[Length(max=5000)])
    outcome = TextAreaField("Outcome", validators=[Length(max=5000)])


class TypeForm(FlaskForm):
    enabled = BooleanField("Send this survey")
    trigger = SelectField("When", choices=[
        (TRIGGERS[0], "After a ticket is resolved"), (TRIGGERS[1], "Periodically to active customers (relationship)")])
    delay_minutes = IntegerField("Delay (minutes)", validators=[InputRequired(), NumberRange(min=0, max=60 * 24 * 30)])
    interval_days = IntegerField("Ask each customer again after (days)",
                                 validators=[InputRequired(), NumberRange(min=1, max=3650)])
    active_days = IntegerField("Active customers: a ticket within (days)",
                               validators=[InputRequired(), NumberRange(min=1, max=3650)])
    team_ids = SelectMultipleField("Teams", coerce=int, validators=[Optional()])
    channels = StringField("Channels", validators=[Length(max=300)])
    question = StringField("Question", validators=[DataRequired(), Length(max=300)])
    subject = StringField("Email subject", validators=[DataRequired(), Length(max=300)])
    body = TextAreaField("Message", validators=[DataRequired(), Length(max=5000)])
