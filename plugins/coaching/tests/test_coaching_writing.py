"""Writing help in the composer: the coaching reply checks on fixed texts, through the core's
"Check reply" endpoint and on send; each check switchable in the plugin's settings."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.plugins("coaching")

GOOD = "Hi Carla, I am sorry the printer let you down. Please unplug it; a technician comes at 3 pm. {ref}"
LONG = ("Hi Carla, thank you for writing to us about the printer in room four, which as far as we can tell from "
        "the logs has been overheating since the update we rolled out last Tuesday evening across the whole "
        "building and which we will replace. {ref}")
JARGON = "Hi Carla, FYI the backend had a DNS propagation delay; kindly revert if it happens again. {ref}"
BLAME = "Hi Carla, you should have restarted it first, as I already said. It works now. {ref}"
ANGRY = "This is unacceptable: the printer broke for the third time this week."
QUOTED = "Hi Carla, done. {ref}\n\n> As per my last mail, you failed to send the ASAP fix which was obviously wrong."


@pytest.fixture
def staff(as_user, people):
    return as_user(people["ana"])


def _check(client, ticket, body):
    answer = client.post(f"/tickets/{ticket.reference}/checks", data={"body": body.format(ref=ticket.reference)},
                         headers={"X-CSRFToken": client.csrf_token()})
    assert answer.status_code == 200
    return [w for w in answer.json["warnings"] if not w.startswith(("You did not greet", "No ticket reference"))]


def test_a_clear_kind_reply_passes(staff, customer, people):
    from helpdesk.plugin_api import services

    complaint = services.create_ticket(customer, "Awful service", ANGRY, tags=["complaint"])
    assert _check(staff, complaint, GOOD) == []


def test_each_check_on_fixed_texts(staff, customer):
    from helpdesk.plugin_api import services

    ticket = services.create_ticket(customer, "Printer", "The printer in room 4 is smoking.")
    (long_warning,) = _check(staff, ticket, LONG)
    assert long_warning.startswith("A sentence has 45 words (“Hi Carla, thank you for writing to us…”)")
    assert long_warning.endswith("split it so it reads easily (aim for under 30).")
    assert _check(staff, ticket, JARGON) == [
        "Jargon the customer may not know: FYI, kindly revert, backend, DNS propagation. Say it in plain words."]
    assert _check(staff, ticket, BLAME) == [
        "This may read as blaming the customer (“you should have”, “as I already said”): "
        "describe what happened and what to do next."]
    assert _check(staff, ticket, QUOTED) == []  # the customer's quoted words are not the agent's


def test_a_complaint_without_acknowledgement(staff, customer):
    from helpdesk.plugin_api import services

    complaint = services.create_ticket(customer, "Awful service", ANGRY, tags=["complaint"])
    assert _check(staff, complaint, "Hi Carla, the printer is replaced. {ref}") == [
        "This is a complaint: acknowledge how the customer feels and apologise where we got it wrong."]
    assert _check(staff, complaint, "Hi Carla, that must be frustrating; the printer is replaced. {ref}") == []
    plain = services.create_ticket(customer, "Question", "How do I print from my laptop in room 4?")
    assert _check(staff, plain, "Hi Carla, the printer is replaced. {ref}") == []


def test_checks_are_advisory_and_switchable(staff, customer):
    from helpdesk.plugin_api import services
    from helpdesk.plugin_manager import manager

    ticket = services.create_ticket(customer, "Printer", "The printer in room 4 is smoking.")
    sent = staff.post(f"/tickets/{ticket.reference}", data={"body": BLAME.format(ref=ticket.reference)},
                      follow_redirects=True)
    assert "Reply sent." in sent.text and "blaming the customer" in sent.text  # advised, not held back
    manager().save_settings("coaching", {"check_blame": False, "check_jargon": False, "max_sentence_words": 50,
                                         "jargon": "printer"})
    assert _check(staff, ticket, BLAME) == []
    assert _check(staff, ticket, JARGON) == []
    assert _check(staff, ticket, LONG) == []
    manager().save_settings("coaching", {"check_jargon": True})
    assert _check(staff, ticket, "Hi Carla, the Printer works. {ref}") == [
        "Jargon the customer may not know: printer. Say it in plain words."]


def test_an_open_question_when_the_request_is_unclear(staff, customer):
    from helpdesk.plugin_api import services

    vague = services.create_ticket(customer, "Help", "It broke again")
    assert _check(staff, vague, "Hi Carla, I restarted the service. {ref}") == [
        "The customer wrote only “It broke again”: if you are not sure what they need, ask an open question "
        "(What happens when…? What would you like…?)."]
    assert _check(staff, vague, "Hi Carla, what do you see when it breaks? {ref}") == []
    clear = services.create_ticket(customer, "Printer", "The printer in room 4 is smoking since this morning.")
    assert _check(staff, clear, "Hi Carla, I restarted the service. {ref}") == []


PLAIN = ("Hi Carla, thanks for telling us about the printer. We sent a new one today. It comes on Monday "
         "morning. Please keep the old one unplugged until then. When the new one is there, plug it in and "
         "press the green button. If it does not start, call me and I will help. {ref}")
LEGALESE = ("Hi Carla, notwithstanding the contractual obligations, the organisation acknowledges "
            "that reimbursement eligibility is contingent upon comprehensive verification of the documentation "
            "submitted, in accordance with applicable regulatory requirements. Consequently, administrative "
            "determinations concerning extraordinary compensation necessitate authorisation by the "
            "responsible department. {ref}")
HARD = ("Hard to read: Flesch reading ease {score} (aim for {least} or more; plain English scores 60–70). "
        "Try shorter sentences and everyday words.")


def test_readability_score_on_fixed_texts(staff, customer):
    from helpdesk.plugin_api import services

    ticket = services.create_ticket(customer, "Printer", "The printer in room 4 is smoking.")
    assert _check(staff, ticket, PLAIN) == []  # 54 everyday words in short sentences: about 97
    assert _check(staff, ticket, LEGALESE) == [HARD.format(score=-78, least=50)]
    # The same dense words, but too few of them for a meaningful score: no warning.
    assert _check(staff, ticket, LEGALESE.split(". ")[0] + ". {ref}") == []
    # Quoted lines are the customer's: dense legalese quoted under a plain reply is not scored.
    quoted = PLAIN + "\n\n" + "\n".join("> " + line for line in LEGALESE.format(ref="").split(", "))
    assert _check(staff, ticket, quoted) == []


def test_readability_is_switchable_and_its_threshold_set_by_the_admin(staff, customer):
    from helpdesk.plugin_api import services
    from helpdesk.plugin_manager import manager

    ticket = services.create_ticket(customer, "Printer", "The printer in room 4 is smoking.")
    sent = staff.post(f"/tickets/{ticket.reference}", data={"body": LEGALESE.format(ref=ticket.reference)},
                      follow_redirects=True)
    assert "Reply sent." in sent.text and "Flesch reading ease -78" in sent.text  # advised, not held back
    manager().save_settings("coaching", {"min_reading_ease": 100})
    assert _check(staff, ticket, PLAIN) == [HARD.format(score=97, least=100)]
    manager().save_settings("coaching", {"readability_min_words": 60})
    assert _check(staff, ticket, PLAIN) == []  # 54 words are now too few to score
    manager().save_settings("coaching", {"readability_min_words": 40, "check_readability": False})
    assert _check(staff, ticket, LEGALESE) == []


@pytest.mark.parametrize("language", ["de", "fr-CA"])
def test_no_readability_score_for_a_customer_who_reads_another_language(staff, customer, db, language):
    from helpdesk.plugin_api import services

    customer.language = language  # "fr-CA": a language the product has no catalogue for is still not English
    db.session.commit()
    ticket = services.create_ticket(customer, "Drucker", "Der Drucker in Raum 4 raucht.")
    assert _check(staff, ticket, LEGALESE) == []
    customer.language = "en-GB"
    db.session.commit()
    assert _check(staff, ticket, LEGALESE) == [HARD.format(score=-78, least=50)]
