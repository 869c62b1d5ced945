"""The admin forms for service levels (Flask-WTF: each carries a CSRF token)."""
from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from helpdesk.i18n import gettext as _
from helpdesk.i18n import lazy_gettext as _l
from helpdesk.models.tickets import OPEN_STATUSES, PRIORITIES
from helpdesk.sla.clock import parse_hhmm, parse_intervals

WEEKDAYS = (("1", "Monday"), ("2", "Tuesday"), ("3", "Wednesday"), ("4", "Thursday"),
            ("5", "Friday"), ("6", "Saturday"), ("7", "Sunday"))
MAX_MINUTES = 525_600  # a year: anything longer is a typo, not a promise
POSITIVE = _l("Enter a whole number of minutes, at least 1 (leave empty for no target).")


def _minutes_field(label: Any) -> IntegerField:
    return IntegerField(label, validators=[Optional(), NumberRange(min=1, max=MAX_MINUTES, message=POSITIVE)])


class PolicyForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    position = IntegerField(_l("Order (lower is checked first)"), default=0,
                            validators=[InputRequired(), NumberRange(min=0, max=10_000)])
    active = BooleanField(_l("Active"), default=True)
    # Choices are filled by the view; an id that is not a team is refused in validate_team_id.
    team_id = SelectField(_l("Team"), coerce=str, validate_choice=False)
    priority = SelectField(_l("Priority"), choices=[("", _l("Any priority"))] + [(p, p) for p in PRIORITIES])
    tag = StringField(_l("Only tickets tagged"), validators=[Optional(), Length(max=60)],
                      filters=[lambda v: (v or "").strip().lower() or None])
    business_hours_id = SelectField(_l("Business hours"), coerce=str, validate_choice=False)
    first_response_minutes = _minutes_field(_l("First response within (minutes)"))
    next_response_minutes = _minutes_field(_l("Next response within (minutes)"))
    periodic_update_minutes = _minutes_field(_l("Update the customer at least every (minutes)"))
    resolution_minutes = _minutes_field(_l("Resolve within (minutes)"))
    warn_before_minutes = IntegerField(
        _l("Warn this many minutes before a target is due"), default=30,
        validators=[InputRequired(message=_l("Enter a number of minutes (0 for no warning).")),
                    NumberRange(min=0, max=MAX_MINUTES, message=_l("Enter 0 or more minutes."))])
    pause_statuses = SelectMultipleField(_l("Pause the clocks while the ticket is"),
                                         choices=[(s, s) for s in OPEN_STATUSES], default=["pending"])

    def validate_team_id(self, field) -> None:
        valid = {value for value, _label in field.choices or []}
        if (field.data or "") not in valid:
            raise ValidationError(_("Unknown team: choose one from the list."))

    def validate_business_hours_id(self, field) -> None:
        valid = {value for value, _label in field.choices or []}
        if (field.data or "") not in valid:
            raise ValidationError(_("Unknown business hours: choose from the list."))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and not any((self.first_response_minutes.data, self.next_response_minutes.data,
                           self.periodic_update_minutes.data, self.resolution_minutes.data)):
            self.form_errors.append(_("Set at least one target (first response, next response, update or resolution)."))
            ok = False
        return ok


class ScheduleField(StringField):
    """One weekday's working hours: ``09:00-17:00``, several comma separated, empty = closed."""

    intervals: list[list[str]] = []  # set by validation: the parsed intervals, sorted

    def pre_validate(self, form) -> None:
        self.intervals = []
        text = (self.data or "").strip()
        if not text:
            return
        pairs = []
        for part in text.split(","):
            part = part.strip()
            if not part:
                continue
            if part.count("-") != 1:
                raise ValidationError(_("“%(part)s” is not an interval: write it like 09:00-17:00.", part=part))
            start, end = (s.strip() for s in part.split("-"))
            try:
                parse_hhmm(start)
                parse_hhmm(end)
            except ValueError as exc:
                raise ValidationError(f"{str(exc)[0].upper()}{str(exc)[1:]}.") from None
            pairs.append([start, end])
        try:
            parse_intervals(pairs)
        except ValueError as exc:
            message = str(exc)
            raise ValidationError(message[0].upper() + message[1:] + ".") from None
        self.intervals = sorted(pairs, key=lambda p: parse_hhmm(p[0]))


def format_intervals(intervals: list[list[str]] | None) -> str:
    return ", ".join(f"{start}-{end}" for start, end in intervals or [])


class HoursForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    timezone = StringField(_l("Time zone"), default="UTC", validators=[DataRequired(), Length(max=64)])
    day_1 = ScheduleField(_l("Monday"), validators=[Length(max=200)])
    day_2 = ScheduleField(_l("Tuesday"), validators=[Length(max=200)])
    day_3 = ScheduleField(_l("Wednesday"), validators=[Length(max=200)])
    day_4 = ScheduleField(_l("Thursday"), validators=[Length(max=200)])
    day_5 = ScheduleField(_l("Friday"), validators=[Length(max=200)])
    day_6 = ScheduleField(_l("Saturday"), validators=[Length(max=200)])
    day_7 = ScheduleField(_l("Sunday"), validators=[Length(max=200)])
    holidays = TextAreaField(_l("Holidays (one date per line, YYYY-MM-DD)"), validators=[Length(max=20_000)])

    def days(self) -> list[ScheduleField]:
        return [getattr(self, f"day_{n}") for n, _label in WEEKDAYS]

    def validate_timezone(self, field) -> None:
        name = (field.data or "").strip()
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(_("Unknown time zone “%(name)s”: use a name such as Europe/Berlin, "
                                    "America/New_York or UTC.", name=name)) from None
        field.data = name

    def validate_holidays(self, field) -> None:
        dates = []
        for number, line in enumerate((field.data or "").splitlines(), start=1):
            text = line.strip()
            if not text:
                continue
            try:
                dates.append(date.fromisoformat(text).isoformat())
            except ValueError:
                raise ValidationError(_("Line %(number)s: “%(text)s” is not a date (write it as YYYY-MM-DD).",
                                        number=number, text=text)) from None
        self.holiday_dates = sorted(set(dates))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and not any(getattr(day, "intervals", None) for day in self.days()):
            self.form_errors.append(_("Enter working hours for at least one day, e.g. 09:00-17:00 on Monday."))
            ok = False
        return ok

    def schedule(self) -> dict[str, list[list[str]]]:
        return {n: day.intervals for (n, _label), day in zip(WEEKDAYS, self.days(), strict=True) if day.intervals}
