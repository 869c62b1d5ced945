"""A worker killed with SIGKILL in the middle of sending an announcement: the next worker
sends to everyone left, nobody gets it twice (one Message-ID per recipient at the SMTP
server), the customer whose send was cut off gets it once, the unsubscribed none."""
from __future__ import annotations

from datetime import timedelta

from conftest import kill, wait_for
from sqlalchemy import select
from worker_main import GateChannel

from helpdesk import services
from helpdesk.models import AnnouncementRecipient, OutboxMail
from helpdesk.models.base import utcnow
from helpdesk.plugin_manager import manager
from helpdesk.services.announcements import create_announcement, resume_stalled, start_sending
from helpdesk.services.organisations import save_organisation
from helpdesk.services.profiles import update_preferences
from helpdesk.testing import make_plugin


def statuses(db) -> dict[int, str]:
    db.session.rollback()  # see what the workers committed
    db.session.expire_all()
    return dict(db.session.execute(select(AnnouncementRecipient.customer_id, AnnouncementRecipient.status)).all())


def test_a_worker_killed_mid_announcement_writes_to_nobody_twice(app, db, admin, agent, sink, workers, gate):
    manager(app).register(make_plugin("gate", helpdesk_channels=lambda: [GateChannel()]), "gate")
    org = save_organisation(admin, name="Acme", domains="acme.test")
    people = [services.find_or_create_customer("email", f"c{n}@acme.test", name=f"Cust {n}") for n in range(6)]
    for person in people:
        update_preferences(person, agent, preferred_channel="gate")
    update_preferences(people[4], agent, consent={"updates": False})
    announcement = create_announcement(admin, subject="News", body="Hi {{ customer.first_name }}.",
                                       segment={"organisation_id": org.id})
    (gate / "hold-notify").touch()
    first = workers(1)
    start_sending(announcement, admin)  # the job goes to the real queue
    wait_for(lambda: list(gate.glob("in-notify-*")), what="the worker inside the first send")
    kill(first)
    (gate / "hold-notify").unlink()
    # The batch was claimed in one commit; its mail is committed with the outcomes, so none was.
    assert statuses(db) == {p.id: "sending" for p in people}
    assert not list(db.session.scalars(select(OutboxMail)))

    workers(2)
    # What the periodic resume does once the lease of the row left "sending" has run out.
    assert resume_stalled(now=utcnow() + timedelta(minutes=6)) == [announcement.id]
    expected = {p.email for p in people} - {people[4].email}
    wait_for(lambda: set(statuses(db).values()) == {"sent", "no_consent"} and len(statuses(db)) == 6
             and len(sink.messages()) >= len(expected), what="the announcement to be sent")
    received = sink.per_message_id()
    assert set(received.values()) == {1}  # nobody twice
    assert {header.split("@")[0] for header in received} == {f"<announcement-{announcement.id}-{p.id}"
                                                             for p in people if p.email in expected}
    assert sorted(m["To"] for m in sink.messages()) == sorted(expected)
