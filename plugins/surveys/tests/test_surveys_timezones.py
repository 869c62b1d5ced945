"""Times in a survey mail are in the recipient's time zone, with its abbreviation."""
from __future__ import annotations

import pytest
from helpdesk_surveys.models import SurveyInvitation
from helpdesk_surveys.sending import send_due
from sqlalchemy import select
from surveys_testkit import after_delay, html_part, invitation_mails, resolve, text_part

from helpdesk.plugin_api import format_local

pytestmark = pytest.mark.plugins("surveys")


def test_the_expiry_in_a_survey_mail_is_in_the_customers_zone(app, db, smtp, customer, agent, ticket):
    customer.timezone = "Asia/Tokyo"
    agent.timezone = "America/Los_Angeles"  # the agent who resolved it lives elsewhere: not their zone
    db.session.commit()
    resolve(ticket, agent)
    assert send_due(now=after_delay(61)) == {"sent": 1}
    [mail] = invitation_mails(smtp)
    invitation = db.session.scalars(select(SurveyInvitation)).one()
    in_tokyo = format_local(invitation.expires_at, customer, "%Y-%m-%d %H:%M %Z")
    assert in_tokyo.endswith(" JST")
    assert f"The links work until {in_tokyo}." in text_part(mail)
    assert f"The buttons work until {in_tokyo}." in html_part(mail)
