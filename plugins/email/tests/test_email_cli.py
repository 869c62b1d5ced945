"""``helpdesk mail ingest`` (stdin, --mbox, --maildir) and ``helpdesk mail poll``."""
from __future__ import annotations

import mailbox

import pytest
from email_mailmaker import make_mail
from helpdesk_email.cli import read_mbox
from helpdesk_email.models import EmailMailbox, EmailQuarantine
from smtp_sink import free_port
from sqlalchemy import func, select

from helpdesk.models import OutboxMail
from helpdesk.plugin_api import Message, Ticket, db_session, encrypt_secret

pytestmark = pytest.mark.plugins("email")


def count(model) -> int:
    return db_session().scalar(select(func.count()).select_from(model))


def run(app, *args: str, stdin: bytes | None = None):
    return app.test_cli_runner().invoke(args=["mail", *args], input=stdin)


def test_one_mail_on_standard_input_as_an_mta_pipe_delivers_it(app):
    result = run(app, "ingest", stdin=make_mail(subject="Piped in"))
    assert result.exit_code == 0, result.output
    assert result.output == "ticket HD-1: New ticket HD-1 from carla@example.test.\n"
    assert db_session().get(Ticket, 1).subject == "Piped in"
    [ack] = db_session().scalars(select(OutboxMail)).all()  # kept in the outbox: no SMTP server in tests
    assert ack.subject == "[HD-1] Re: Piped in"


def test_a_quarantined_mail_on_standard_input_is_not_a_failure(app):
    result = run(app, "ingest", stdin=b"garbage without headers")
    assert result.exit_code == 0
    assert result.output.startswith("quarantined: No usable sender")


MBOX = (b"From carla@example.test Mon Jun  2 09:00:00 2025\n"
        b"From: Carla <carla@example.test>\nSubject: First\nMessage-ID: <m1@example.test>\n\n"
        b"Hello\n\nFrom time to time the printer smokes.\n>From the manual: unplug it.\n\n"
        b"From otto@example.test Mon Jun  2 09:05:00 2025\n"
        b"From: Otto <otto@example.test>\nSubject: Second\nMessage-ID: <m2@example.test>\n\nHi there\n\n"
        b"From away@example.test Mon Jun  2 09:06:00 2025\n"
        b"From: away@example.test\nSubject: Out of office\nAuto-Submitted: auto-replied\n"
        b"Message-ID: <m3@example.test>\n\n"
        b"Back Monday\n\n"
        b"From carla@example.test Mon Jun  2 09:07:00 2025\n"  # the first mail again: a duplicate
        b"From: Carla <carla@example.test>\nSubject: First\nMessage-ID: <m1@example.test>\n\n"
        b"Hello\n\nFrom time to time the printer smokes.\n>From the manual: unplug it.\n")


def test_an_mbox_import_keeps_unescaped_from_lines_in_the_body(app, tmp_path):
    path = tmp_path / "import.mbox"
    path.write_bytes(MBOX)
    messages = [raw for raw, _done in read_mbox(str(path))]
    assert len(messages) == 4
    assert messages[0].endswith(b"Hello\n\nFrom time to time the printer smokes.\nFrom the manual: unplug it.\n")

    result = run(app, "ingest", "--mbox", str(path))
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "4 message(s): 2 ticket, 1 duplicate, 1 auto_reply."
    assert db_session().get(Ticket, 1).messages[0].body == (
        "Hello\n\nFrom time to time the printer smokes.\nFrom the manual: unplug it.")
    assert (count(Ticket), count(Message), count(EmailQuarantine)) == (2, 2, 1)
    assert count(OutboxMail) == 0  # an import is history: nobody is acknowledged
    again = run(app, "ingest", "--mbox", str(path))  # re-running an import changes nothing
    assert again.output.strip().splitlines()[-1] == "4 message(s): 4 duplicate."
    assert (count(Ticket), count(Message), count(EmailQuarantine)) == (2, 2, 1)


def test_a_maildir_import_counts_each_outcome(app, tmp_path):
    box = mailbox.Maildir(str(tmp_path / "Maildir"))
    box.add(make_mail(subject="One"))
    box.add(make_mail(subject="Two", sender="otto@example.test"))
    box.add(b"Subject: no sender\n\nhi\n")
    result = run(app, "ingest", "--maildir", str(tmp_path / "Maildir"))
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "3 message(s): 2 ticket, 1 quarantined."


def test_only_unreadable_input_is_a_failure(app, tmp_path):
    missing = run(app, "ingest", "--mbox", str(tmp_path / "missing.mbox"))
    assert missing.exit_code == 2 and "does not exist" in missing.output
    (tmp_path / "plain").mkdir()
    not_maildir = run(app, "ingest", "--maildir", str(tmp_path / "plain"))
    assert not_maildir.exit_code == 1 and "Cannot read" in not_maildir.output
    both = run(app, "ingest", "--mbox", __file__, "--maildir", str(tmp_path))
    assert both.exit_code == 2 and "not both" in both.output


def test_poll_reports_each_mailbox_and_fails_when_one_fails(app):
    assert run(app, "poll").output == "No active mailbox: add one in Admin → Email.\n"
    port = free_port()
    db_session().add(EmailMailbox(name="Support", host="127.0.0.1", port=port, security="none", username="u",
                                password_encrypted=encrypt_secret("p")))
    db_session().commit()
    result = run(app, "poll")
    assert result.exit_code == 1
    assert result.output == ("Support: fetched 0, ingested 0\n  error: Support: connection refused "
                             "(is the host and port right, and the server running?)\n")
    db_session().expire_all()
    assert db_session().scalars(select(EmailMailbox.last_error)).one().startswith("Support: connection refused")


def test_the_periodic_job_polls_each_mailbox_when_its_interval_has_passed(app):
    from datetime import datetime, timedelta

    from helpdesk_email.imap import poll_due

    start = datetime(2025, 6, 2, 9, 0)
    db_session().add_all([
        EmailMailbox(name="Every 5", host="127.0.0.1", port=free_port(), security="none", username="u",
                     poll_minutes=5),
        EmailMailbox(name="Paused", host="127.0.0.1", port=free_port(), security="none", username="u", active=False)])
    db_session().commit()
    polled = [len(poll_due(start + timedelta(minutes=m))) for m in (0, 1, 4, 5, 6, 10)]
    assert polled == [1, 0, 0, 1, 0, 1]
    box = db_session().scalars(select(EmailMailbox).where(EmailMailbox.name == "Every 5")).one()
    assert box.last_polled_at == start + timedelta(minutes=10) and "connection refused" in box.last_error
