"""``helpdesk mail ingest`` (stdin, --mbox, --maildir) and ``helpdesk mail poll``."""
from __future__ import annotations

import mailbox
import os
import re
import sys
from collections import Counter
from collections.abc import Iterator

import click

from helpdesk.plugin_api import db_session

# helpdesk_email.ingest is imported by the commands that ingest mail: every process that
# makes the app registers these commands, and a web process never runs them.


def _summary(counts: Counter) -> str:
    from helpdesk_email.ingest import OUTCOMES

    total = sum(counts.values())
    parts = [f"{counts[name]} {name}" for name in OUTCOMES if counts.get(name)]
    return f"{total} message(s): " + (", ".join(parts) if parts else "nothing to do") + "."


FROM_LINE = re.compile(rb"^From \S+.*\d{1,2}:\d{2}(?::\d{2})?.*\d{4}\s*$")
ESCAPED_FROM = re.compile(rb"^>(>*From )")


def read_mbox(path: str) -> Iterator[tuple[bytes, int]]:
    """Each message of an mbox file (and how many bytes were read so far).

    A new message starts at a "From " line that carries a date (``From sender Mon Jan  1
    10:00:00 2024``), so an unescaped "From time to time" in a body stays in that body
    (Python's ``mailbox.mbox`` would cut the message there). ``>From`` lines are unescaped
    one level (mboxrd).
    """
    lines: list[bytes] = []
    done = 0
    with open(path, "rb") as handle:
        for line in handle:
            done += len(line)
            if FROM_LINE.match(line):
                message = _finish(lines)
                if message is not None:
                    yield message, done - len(line)
                lines = []
                continue
            lines.append(ESCAPED_FROM.sub(rb"\1", line))
    message = _finish(lines)
    if message is not None:
        yield message, done


def _finish(lines: list[bytes]) -> bytes | None:
    data = b"".join(lines)
    if not data.strip():
        return None
    if data.endswith(b"\r\n\r\n"):  # the blank line before the next From_ line is the separator
        return data[:-2]
    if data.endswith(b"\n\n"):
        return data[:-1]
    return data


def _ingest_mbox(path: str, mailbox_id: int | None) -> Counter:
    from helpdesk_email.ingest import ingest_message

    counts: Counter = Counter()
    with click.progressbar(length=os.path.getsize(path), label="Importing mbox", file=sys.stderr) as bar:
        position = 0
        for raw, done in read_mbox(path):
            counts[ingest_message(raw, source="mbox", mailbox_id=mailbox_id).outcome] += 1
            bar.update(done - position)
            position = done
    return counts


def _ingest_maildir(box: mailbox.Maildir, mailbox_id: int | None) -> Counter:
    from helpdesk_email.ingest import ingest_message

    counts: Counter = Counter()
    with click.progressbar(box.keys(), label="Importing Maildir", file=sys.stderr, show_pos=True) as keys:
        for key in keys:
            try:
                raw = box.get_bytes(key)
            except (OSError, KeyError) as exc:  # a file vanished while we read the folder
                click.echo(f"\nCould not read {key}: {exc}", err=True)
                continue
            counts[ingest_message(raw, source="maildir", mailbox_id=mailbox_id).outcome] += 1
    return counts


def register(cli: click.Group) -> None:
    @cli.group("mail")
    def mail() -> None:
        """The email channel: import mail, poll IMAP mailboxes."""

    @mail.command("ingest")
    @click.option("--mbox", "mbox_path", type=click.Path(exists=True, dir_okay=False),
                  help="Import every message of an mbox file.")
    @click.option("--maildir", "maildir_path", type=click.Path(exists=True, file_okay=False),
                  help="Import every message of a Maildir folder (cur/ and new/).")
    @click.option("--mailbox-id", type=int, default=None,
                  help="Treat the mail as received by this configured mailbox (its team gets new tickets).")
    def ingest(mbox_path: str | None, maildir_path: str | None, mailbox_id: int | None) -> None:
        """Ingest mail: one raw RFC 5322 message on standard input (an MTA pipe), or --mbox / --maildir.

        Exits 0 even when messages were quarantined (they are kept with the reason); non-zero
        only when the input cannot be read.
        """
        if mbox_path and maildir_path:
            raise click.UsageError("Give --mbox or --maildir, not both.")
        if mbox_path:
            try:
                with open(mbox_path, "rb") as handle:
                    handle.read(1)
            except OSError as exc:
                raise click.ClickException(f"Cannot read {mbox_path}: {exc}") from None
            click.echo(_summary(_ingest_mbox(mbox_path, mailbox_id)))
            return
        if maildir_path:
            try:
                box = mailbox.Maildir(maildir_path, factory=None, create=False)
                box.keys()  # lists cur/ and new/: a folder that is not a Maildir fails here
            except (OSError, mailbox.Error) as exc:
                raise click.ClickException(f"Cannot read {maildir_path}: {exc}") from None
            click.echo(_summary(_ingest_maildir(box, mailbox_id)))
            return
        stdin = getattr(sys.stdin, "buffer", None)
        try:
            raw = stdin.read() if stdin is not None else sys.stdin.read().encode("utf-8", "surrogateescape")
        except (OSError, ValueError) as exc:
            raise click.ClickException(f"Cannot read standard input: {exc}") from None
        from helpdesk_email.ingest import ingest_message

        result = ingest_message(raw, source="pipe", mailbox_id=mailbox_id)
        where = f" {result.reference}" if result.reference else ""
        click.echo(f"{result.outcome}{where}: {result.reason}")

    @mail.command("poll")
    def poll() -> None:
        """Poll every active IMAP mailbox now (whatever its interval)."""
        from sqlalchemy import select

        from helpdesk_email.imap import poll_mailbox
        from helpdesk_email.models import EmailMailbox

        boxes = list(db_session().execute(select(EmailMailbox.id, EmailMailbox.name)
                                        .where(EmailMailbox.active.is_(True)).order_by(EmailMailbox.id)))
        if not boxes:
            click.echo("No active mailbox: add one in Admin → Email.")
            return
        failed = False
        for mailbox_id, name in boxes:
            result = poll_mailbox(mailbox_id)
            click.echo(f"{name}: fetched {result.fetched}, ingested {result.ingested}"
                       + "".join(f"\n  error: {e}" for e in result.errors))
            failed = failed or bool(result.errors)
        if failed:
            sys.exit(1)

