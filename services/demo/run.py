"""Playing the demo county's stories (services/demo/script.py) through the real services, with
the clock (services.core.clock) set to each step's moment, so every timestamp, deadline, history
line, notice and figure is what the portal itself would have written on that day."""
from __future__ import annotations

import io
import logging
import random
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services import seed
from services.accounts import users as accounts
from services.core import clock
from services.core.errors import ServiceError
from services.demo import script
from services.demo.script import ENTERPRISE, HANDLER, LEAD, Step, Story
from services.models import OutboxMessage, Request, Service, Ticket, User
from services.requests import actions as request_actions
from services.requests import submission, uploads
from services.tickets import actions, mail, notify, ratings, workdays

log = logging.getLogger(__name__)

SEED = 2026
#: Everyday requests besides the key stories, submitted over about four months.
EVERYDAY = 56
EARLIEST = 85          # working days before today of the oldest request
KEY_PREFIX = "demo-county-"
UNREAD_DAYS = 3        # notices of the last working days stay unread
RECENT = 0.25          # the share of everyday requests from the last RECENT_DAYS working days
RECENT_DAYS = 12
REFUSAL = "申请材料与所选服务不符，请按办事指南选择对应服务后重新申请。"


@dataclass
class DemoReport:
    requests: int = 0
    tickets: int = 0
    mails: int = 0
    skipped: bool = False
    problems: list[str] = field(default_factory=list)


def demo_exists(session: Session) -> bool:
    return bool(session.scalar(select(func.count(Request.id)).where(Request.idempotency_key.like(KEY_PREFIX + "%"))))


# --------------------------------------------------------------------------- the everyday stories
def _weighted_score(rng: random.Random) -> int:
    return rng.choices((5, 4, 3, 2, 1), weights=(52, 28, 11, 6, 3))[0]


def everyday_stories(rng: random.Random, published: dict[str, int]) -> list[Story]:
    """EVERYDAY requests drawn from the pool (services published online -> promised working days):
    most done and rated, some late, a few refused, 补正 now and then; the latest ones are still
    open because their later steps lie ahead."""
    stories = []
    for _ in range(EVERYDAY):
        enterprise = rng.choice(script.ALL_ENTERPRISES)
        industry = _INDUSTRY[enterprise]
        kinds = [k for k in script.POOL if k.code in published and (not k.industries or industry in k.industries)]
        kind = rng.choice(kinds)
        limit = published[kind.code]  # the promised working days
        steps: list[Step] = []
        roll = rng.random()
        if roll < 0.06:
            steps.append(Step(rng.choice((1, 2)), HANDLER, "reject", REFUSAL))
        else:
            if roll < 0.3:
                steps.append(Step(0, LEAD, "assign", arg=1))
            steps.append(Step(rng.choice((0, 1, 1, 1, 1, 2, 2, 3)), HANDLER, "accept", rng.choice(script.ACCEPT_NOTES)))
            if rng.random() < 0.5:
                steps.append(Step(rng.choice((0, 1)), HANDLER, "start"))
            spent = 0
            if kind.info and rng.random() < 0.35:
                steps.append(Step(1, HANDLER, "request_info", kind.info))
                steps.append(Step(rng.randint(1, 4), ENTERPRISE, "provide_info", "已按要求补充材料，请查收。",
                                  files=("补充材料.pdf",)))
                spent = 1
            if rng.random() < 0.25:
                steps.append(Step(1, HANDLER, "reply", rng.choice(script.REPLIES)))
                spent += 1
            late = rng.random() < 0.12
            days = limit + rng.randint(1, 4) if late else rng.randint(1, max(1, limit - 1))
            steps.append(Step(max(1, days - spent), HANDLER, "complete", kind.done))
            if rng.random() < 0.78:
                score = _weighted_score(rng) if not late else rng.choice((2, 3, 4))
                steps.append(Step(rng.randint(0, 3), ENTERPRISE, "rate", rng.choice(script.COMMENTS[score]), arg=score))
                if score <= 2:
                    steps.append(Step(rng.randint(1, 3), LEAD, "follow_up", rng.choice(script.FOLLOW_UPS)))
                    if rng.random() < 0.6:
                        steps.append(Step(rng.randint(1, 2), ENTERPRISE, "rate", "", arg=rng.choice((4, 5))))
        back = rng.randint(1, RECENT_DAYS) if rng.random() < RECENT else rng.randint(RECENT_DAYS, EARLIEST)
        stories.append(Story(enterprise, back, (kind.code,), {kind.code: dict(kind.attributes)}, kind.description,
                             steps=tuple(steps)))
    return stories


_INDUSTRY = {code: row[5] for code, row in seed.DEMO_ENTERPRISES.items()}


# --------------------------------------------------------------------------- playing them
@dataclass
class _Playing:
    index: int
    story: Story
    request: Request | None = None
    failed: bool = False


class Player:
    """Runs one story's submission or step as the person who takes it."""

    def __init__(self, session: Session, upload_dir: str, report: DemoReport):
        self.session, self.upload_dir, self.report = session, upload_dir, report
        self.calendar = workdays.Calendar.from_session(session)
        self._users: dict[str, User] = {}

    def user(self, username: str) -> User:
        if username not in self._users:
            self._users[username] = accounts.get_by_username(self.session, username)
        return self._users[username]

    # ------------------------------------------------------------------ who acts
    def _staff(self, ticket: Ticket, who: str, index: int) -> User:
        if who not in (HANDLER, LEAD):
            return self.user(who)
        handlers, lead = script.BUREAU_STAFF.get(ticket.bureau.code, ((script.SUPERVISOR,), None))
        if who == LEAD:
            return self.user(lead or script.SUPERVISOR)
        if ticket.assignee is not None and ticket.assignee.bureau_id == ticket.bureau_id:
            return ticket.assignee
        return self.user(handlers[index % len(handlers)])

    # ------------------------------------------------------------------ one step
    def submit(self, playing: _Playing) -> None:
        story = playing.story
        sub = submission.Submission(services=list(story.services), attributes=story.attributes,
                                    description=story.description, bundle=story.bundle,
                                    idempotency_key=f"{KEY_PREFIX}{playing.index:03d}",
                                    files=[_pdf(name) for name in story.files])
        request, _created = submission.submit(self.session, self.user(story.enterprise), sub,
                                              self.upload_dir, need=story.need)
        playing.request = request
        self.report.requests += 1
        self.report.tickets += len(request.tickets)

    def step(self, playing: _Playing, step: Step) -> None:
        request = playing.request
        assert request is not None  # submitted first
        self.session.refresh(request)
        ticket = sorted(request.tickets, key=lambda t: t.id)[step.ticket]
        verb, s = step.verb, self.session
        if step.who == ENTERPRISE:
            user = self.user(playing.story.enterprise)
        else:
            user = self._staff(ticket, step.who, playing.index)
        if verb == "claim":
            actions.claim(s, user, ticket.number)
        elif verb == "assign":
            handlers = script.BUREAU_STAFF[ticket.bureau.code][0]
            name = step.arg if isinstance(step.arg, str) else handlers[(playing.index + 1) % len(handlers)]
            actions.assign(s, user, ticket.number, name)
        elif verb == "provide_info":
            request_actions.provide_info(s, user, request.number, ticket.number, step.text,
                                         [_pdf(name) for name in step.files], self.upload_dir)
        elif verb == "rate":
            ratings.rate(s, user, request.number, ticket.number, step.arg, step.text, calendar=self.calendar)
        elif verb == "follow_up":
            open_ones = [r for r in ratings.ratings_of(s, ticket) if r.follow_up_at is None and r.round == 1]
            if open_ones:
                ratings.follow_up(s, user, open_ones[0].id, step.text)
        elif verb == "withdraw":
            request_actions.withdraw(s, user, request.number, step.text)
        else:
            actions.perform(s, user, ticket.number, actions.ActionInput(action=verb, message=step.text,
                                                                        to_bureau=step.arg),
                            upload_dir=self.upload_dir, calendar=self.calendar)


def _pdf(name: str) -> uploads.Incoming:
    return uploads.Incoming(name, io.BytesIO(pdf_bytes(name)))


def pdf_bytes(title: str) -> bytes:
    """A small valid one-page PDF (the demo's attachments)."""
    text = f"Lixian demo attachment {zlib.crc32(title.encode()) % 10000:04d}"
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# --------------------------------------------------------------------------- the timeline
def _moment(day: date, hours: float) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=clock.BEIJING) + timedelta(hours=hours)


def timeline(calendar: workdays.Calendar, stories: list[Story], today: date, now: datetime,
             rng: random.Random) -> list[tuple[datetime, int, int]]:
    """(moment, story index, step index; -1 = the submission) of every step that lies before now."""
    events = []
    for i, story in enumerate(stories):
        day = calendar.add_workdays(today, -story.back)
        at = _moment(day, rng.uniform(8.5, 19.5))
        if at >= now:
            at = now - timedelta(minutes=30)
        events.append((at, i, -1))
        for j, step in enumerate(story.steps):
            day = calendar.add_workdays(day, step.after) if step.after else day
            at = max(at + timedelta(minutes=rng.randint(15, 90)), _moment(day, rng.uniform(8.75, 17.5)))
            if at >= now:
                break
            events.append((at, i, j))
    return sorted(events)


def daily(calendar: workdays.Calendar, first: date, today: date, now: datetime, hours: float
          ) -> list[datetime]:
    """The working days' moments at `hours` from `first` to now."""
    moments, day = [], calendar.next_workday(first)
    while day <= today:
        at = _moment(day, hours)
        if at < now:
            moments.append(at)
        day = calendar.add_workdays(day, 1)
    return moments


def play(session: Session, upload_dir: str, mail_folder: str) -> DemoReport:
    """Create the demo county's requests (once: nothing when they exist already)."""
    report = DemoReport()
    if demo_exists(session):
        report.skipped = True
        return report
    rng = random.Random(SEED)
    published = {code: days for code, days in session.execute(
        select(Service.code, Service.time_limit_days).where(Service.published.is_(True), Service.online.is_(True)))}
    stories = list(script.KEY_STORIES) + everyday_stories(rng, published)
    mail_before = session.scalar(select(func.max(OutboxMessage.id))) or 0
    now = clock.utcnow()
    today = clock.local_today()
    player = Player(session, upload_dir, report)
    calendar = player.calendar
    events: list[tuple[datetime, int, Callable[[], None]]] = []
    playing = [_Playing(i, story) for i, story in enumerate(stories)]
    for at, i, j in timeline(calendar, stories, today, now, rng):
        events.append((at, 1, _bind(player, playing[i], j, report)))
    first = calendar.add_workdays(today, -EARLIEST)
    for at in daily(calendar, first, today, now, 8.5):  # the hourly cron of a real county, once a day here
        events.append((at, 0, _checker(session, calendar)))
    read_at = _moment(calendar.add_workdays(today, -UNREAD_DAYS), 8.0)
    users = list(session.scalars(select(User).where(User.active.is_(True))))
    for user in users:
        events.append((read_at, 2, _reader(session, user)))
    events.sort(key=lambda e: (e[0], e[1]))
    for at, _order, run in events:
        with clock.frozen(at):
            run()
    while True:  # the history's e-mail goes to the local mailbox, never to a real mail server
        sent = mail.send_pending(session, mail.FolderSettings(mail_folder), after_id=mail_before)
        report.mails += sent.sent
        if not sent.sent:
            break
    return report


def _checker(session: Session, calendar: workdays.Calendar) -> Callable[[], None]:
    def run() -> None:
        actions.sla_check(session, calendar)
    return run


def _reader(session: Session, user: User) -> Callable[[], None]:
    return lambda: notify.mark_all_read(session, user)


def _bind(player: Player, playing: _Playing, j: int, report: DemoReport) -> Callable[[], None]:
    def run() -> None:
        if playing.failed:
            return
        try:
            if j < 0:
                player.submit(playing)
            else:
                player.step(playing, playing.story.steps[j])
        except ServiceError as exc:  # a step the portal refuses: say which, and leave that story there
            playing.failed = True
            what = "submit" if j < 0 else playing.story.steps[j].verb
            report.problems.append(f"story {playing.index} ({', '.join(playing.story.services) or 'need'}) "
                                   f"{what}: {exc.message}")
            log.warning("demo story %s stopped: %s", playing.index, report.problems[-1])
    return run
