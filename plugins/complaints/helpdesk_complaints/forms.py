"""Forms (Flask-WTF: each carries a CSRF token)."""
from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FloatField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from helpdesk.plugin_api import gettext, lazy_gettext
from helpdesk_complaints.rules import (
    PRIORITIES,
    REGEX_TIMEOUT,
    RuleError,
    check_template,
    compile_regex,
    is_slow_pattern,
    parse_hhmm,
)


def _words(text: str | None) -> list[str]:
    return [w.strip() for w in re.split(r"[,\n]", text or "") if w.strip()]


class RuleForm(FlaskForm):
    name = StringField(lazy_gettext("Name"), validators=[
        DataRequired(message=lazy_gettext("Give the rule a name.")), Length(max=120)])
    active = BooleanField(lazy_gettext("Active"), default=True)
    stop = BooleanField(lazy_gettext("Stop here: when this rule fires, later rules are not checked"))

    # Conditions (all must hold)
    channel = StringField(lazy_gettext("Channel is one of"), validators=[Optional(), Length(max=200)],
                          description=lazy_gettext("Channel names, comma separated (web, email, chat, sms …)."))
    sentiment_below = FloatField(lazy_gettext("Sentiment below"), validators=[
        Optional(), NumberRange(min=-1, max=1, message=lazy_gettext("Sentiment runs from -1 (very negative) to 1."))],
        description=lazy_gettext("VADER compound of the first message, -1 … 1; -0.3 catches clearly negative "
                                 "messages."))
    words = StringField(lazy_gettext("Mentions any of these words"), validators=[Optional(), Length(max=1000)],
                        description=lazy_gettext("Comma separated; whole words, any case, in the subject or the "
                                                 "message."))
    regex = StringField(lazy_gettext("Matches the pattern"), validators=[Optional(), Length(max=500)],
                        description=lazy_gettext("A regular expression (Python syntax, case-insensitive)."))
    customer_tag = StringField(lazy_gettext("Customer is tagged"), validators=[Optional(), Length(max=60)])
    team_id = SelectField(lazy_gettext("Ticket is in team"), coerce=str, validate_choice=False)
    time_from = StringField(lazy_gettext("Created from (HH:MM)"), validators=[Optional(), Length(max=5)])
    time_to = StringField(lazy_gettext("until (HH:MM)"), validators=[Optional(), Length(max=5)])
    priority = SelectMultipleField(lazy_gettext("Priority is one of"), choices=[(p, p) for p in PRIORITIES])
    is_complaint = SelectField(lazy_gettext("Is a complaint"), choices=[
        ("", lazy_gettext("Either")), ("yes", lazy_gettext("Yes")), ("no", lazy_gettext("No"))], default="")

    # Actions
    set_team_id = SelectField(lazy_gettext("Set team"), coerce=str, validate_choice=False)
    assign = SelectField(lazy_gettext("Assign"), choices=[
        ("", lazy_gettext("Leave to the team's own strategy")),
        ("agent", lazy_gettext("A specific agent")),
        ("round_robin", lazy_gettext("Round robin in the team (available agents)")),
        ("least_loaded", lazy_gettext("Least loaded in the team (available agents)"))], default="")
    agent_id = SelectField(lazy_gettext("Agent"), coerce=str, validate_choice=False)
    set_priority = SelectField(lazy_gettext("Raise priority to"),
                               choices=[("", lazy_gettext("Leave as it is"))] + [(p, p) for p in PRIORITIES],
                               default="")
    add_tags = StringField(lazy_gettext("Add tags"), validators=[Optional(), Length(max=300)],
                           description=lazy_gettext("Comma separated."))
    sla_policy_id = SelectField(lazy_gettext("Apply SLA policy"), coerce=str, validate_choice=False)
    acknowledge = BooleanField(lazy_gettext("Send an acknowledgement to the customer (once per ticket)"))
    ack_template = TextAreaField(lazy_gettext("Acknowledgement text"), validators=[Optional(), Length(max=5000)],
                                 description=lazy_gettext(
                                     "Empty: the plugin's default. Placeholders: {{ first_name }}, "
                                     "{{ reference }}, {{ subject }}, {{ next_steps }}, {{ apology }}."))
    notify_supervisor = BooleanField(
        lazy_gettext("Notify the supervisor (the team lead) by email and on their dashboard"))

    def _check_choice(self, field, message: str) -> None:
        valid = {value for value, _label in field.choices or []}
        if (field.data or "") not in valid:
            raise ValidationError(message)

    def validate_team_id(self, field) -> None:
        self._check_choice(field, gettext("Unknown team: choose one from the list."))

    def validate_set_team_id(self, field) -> None:
        self._check_choice(field, gettext("Unknown team: choose one from the list."))

    def validate_agent_id(self, field) -> None:
        self._check_choice(field, gettext("Unknown agent: choose one from the list."))

    def validate_sla_policy_id(self, field) -> None:
        self._check_choice(field, gettext("Unknown SLA policy (only policies limited to a tag can be applied): "
                                          "choose one from the list."))

    def validate_regex(self, field) -> None:
        if field.data:
            try:
                compile_regex(field.data.strip())
            except RuleError as exc:
                raise ValidationError(gettext("This pattern does not compile: %(error)s.",
                                              error=str(exc).split(": ", 1)[-1])) from None
            if is_slow_pattern(field.data.strip()):
                raise ValidationError(gettext(
                    "This pattern takes more than %(ms)s ms on some texts (nested repetition "
                    "such as (a+)+ backtracks without end): simplify it, e.g. (a+)+ → a+.",
                    ms=round(REGEX_TIMEOUT * 1000)))

    def validate_channel(self, field) -> None:
        for name in _words(field.data):
            if not re.fullmatch(r"[a-z0-9_:.-]{1,40}", name.lower()):
                raise ValidationError(
                    gettext("“%(name)s” is not a channel name (letters, digits, - and _).", name=name))

    def _check_time(self, field) -> None:
        if field.data:
            try:
                parse_hhmm(field.data)
            except RuleError:
                raise ValidationError(gettext("Enter a time like 18:30.")) from None

    def validate_time_from(self, field) -> None:
        self._check_time(field)

    def validate_time_to(self, field) -> None:
        self._check_time(field)

    def validate_ack_template(self, field) -> None:
        if field.data:
            problem = check_template(field.data)
            if problem:
                raise ValidationError(problem)

    def conditions(self) -> dict:
        out: dict = {}
        if _words(self.channel.data):
            out["channel"] = [w.lower() for w in _words(self.channel.data)]
        if self.sentiment_below.data is not None:
            out["sentiment_below"] = round(float(self.sentiment_below.data), 3)
        if _words(self.words.data):
            out["words"] = _words(self.words.data)
        if (self.regex.data or "").strip():
            out["regex"] = self.regex.data.strip()
        if (self.customer_tag.data or "").strip():
            out["customer_tag"] = self.customer_tag.data.strip().lower()
        if self.team_id.data:
            out["team_id"] = int(self.team_id.data)
        if self.time_from.data and self.time_to.data:
            out["time"] = {"from": f"{parse_hhmm(self.time_from.data):%H:%M}",
                           "to": f"{parse_hhmm(self.time_to.data):%H:%M}"}
        if self.priority.data:
            out["priority"] = list(self.priority.data)
        if self.is_complaint.data:
            out["is_complaint"] = self.is_complaint.data == "yes"
        return out

    def actions(self) -> dict:
        out: dict = {}
        if self.set_team_id.data:
            out["team_id"] = int(self.set_team_id.data)
        if self.assign.data:
            out["assign"] = self.assign.data
            if self.assign.data == "agent":
                out["agent_id"] = int(self.agent_id.data)
        if self.set_priority.data:
            out["priority"] = self.set_priority.data
        if _words(self.add_tags.data):
            out["tags"] = [t.lower() for t in _words(self.add_tags.data)]
        if self.sla_policy_id.data:
            out["sla_policy_id"] = int(self.sla_policy_id.data)
        if self.acknowledge.data:
            out["acknowledge"] = True
            if (self.ack_template.data or "").strip():
                out["ack_template"] = self.ack_template.data.strip()
        if self.notify_supervisor.data:
            out["notify_supervisor"] = True
        return out

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if bool(self.time_from.data) != bool(self.time_to.data):
            (self.time_to if self.time_from.data else self.time_from).errors.append(
                gettext("Give both times of the window (from and until)."))
            ok = False
        if self.assign.data == "agent" and not self.agent_id.data:
            self.agent_id.errors.append(gettext("Choose the agent to assign."))
            ok = False
        if self.assign.data in ("round_robin", "least_loaded") and not (self.set_team_id.data or self.team_id.data):
            self.assign.errors.append(gettext("Round robin and least loaded pick within a team: set the team "
                                              "(or a team condition)."))
            ok = False
        if ok and not self.conditions():
            self.form_errors.append(
                gettext("Add at least one condition: a rule without conditions would match every ticket."))
            ok = False
        if ok and not self.actions():
            self.form_errors.append(gettext("Choose at least one action: what should happen when the rule matches?"))
            ok = False
        return ok

    def fill(self, conditions: dict, actions: dict) -> None:
        """Put a saved rule's JSON back into the fields (GET of the edit page)."""
        c, a = conditions or {}, actions or {}
        self.channel.data = ", ".join(c.get("channel") or [])
        self.sentiment_below.data = c.get("sentiment_below")
        self.words.data = ", ".join(c.get("words") or [])
        self.regex.data = c.get("regex") or ""
        self.customer_tag.data = c.get("customer_tag") or ""
        self.team_id.data = str(c.get("team_id") or "")
        self.time_from.data = (c.get("time") or {}).get("from", "")
        self.time_to.data = (c.get("time") or {}).get("to", "")
        self.priority.data = list(c.get("priority") or [])
        self.is_complaint.data = "" if "is_complaint" not in c else ("yes" if c["is_complaint"] else "no")
        self.set_team_id.data = str(a.get("team_id") or "")
        self.assign.data = a.get("assign") or ""
        self.agent_id.data = str(a.get("agent_id") or "")
        self.set_priority.data = a.get("priority") or ""
        self.add_tags.data = ", ".join(a.get("tags") or [])
        self.sla_policy_id.data = str(a.get("sla_policy_id") or "")
        self.acknowledge.data = bool(a.get("acknowledge"))
        self.ack_template.data = a.get("ack_template") or ""
        self.notify_supervisor.data = bool(a.get("notify_supervisor"))


class ClearFlagForm(FlaskForm):
    reason = StringField(lazy_gettext("Why is this not a complaint?"), validators=[
        DataRequired(message=lazy_gettext("Say why, so the reports can learn from it.")), Length(max=500)])


class FlagForm(FlaskForm):
    reason = StringField(lazy_gettext("Why is this a complaint?"), validators=[
        DataRequired(message=lazy_gettext("Say why (what expectation was missed).")), Length(max=500)])


class StepForm(FlaskForm):
    step = SelectField(choices=[("acknowledge", "acknowledge"), ("listen", "listen"), ("follow_up", "follow_up")])
    done = SelectField(choices=[("yes", "yes"), ("no", "no")])


class RemedyForm(FlaskForm):
    kind = RadioField(lazy_gettext("Remedy"), choices=[("offered", lazy_gettext("We offered")),
                                                            ("none", lazy_gettext("No remedy, because"))],
                      default="offered", validators=[InputRequired(message=lazy_gettext("Choose one."))])
    text = TextAreaField(lazy_gettext("Details"), validators=[
        DataRequired(message=lazy_gettext("Write what was offered, or why there is no remedy.")), Length(max=2000)])


class FollowUpForm(FlaskForm):
    resolved = RadioField(lazy_gettext("Did we resolve your concern?"),
                          choices=[("yes", lazy_gettext("Yes")), ("no", lazy_gettext("No"))],
                          validators=[InputRequired(message=lazy_gettext("Choose yes or no."))])
    comment = TextAreaField(lazy_gettext("Anything you would like to add? (optional)"),
                            validators=[Optional(), Length(max=2000)])
