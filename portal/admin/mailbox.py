"""本地邮箱: with MAIL_BACKEND = "folder" (the local demo) outgoing mail is written as .eml files into
MAIL_FOLDER instead of going to a mail server. This module delivers the mail a request queued
at the end of that request, so a password-reset link is there at once, and shows the folder to
admins (/admin/mailbox) — subject, recipient, time and body, links clickable, all text escaped."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from flask import current_app, render_template, request

from portal.access import login_required
from portal.admin import bp
from portal.extensions import db
from portal.params import MAX_PAGE, parse_int
from services.core.roles import ADMINS
from services.tickets import mail

log = logging.getLogger(__name__)

PER_PAGE = 20
#: A link in a message body: http(s) up to white space or the punctuation that ends a Chinese sentence.
LINK = re.compile(r"https?://[^\s<>\"'，。；、）」》]+")


@dataclass
class Segment:
    text: str
    href: str | None = None   # a link: the text is its address


def segments(body: str) -> list[Segment]:
    """The body as plain text and links (the template escapes both)."""
    parts: list[Segment] = []
    at = 0
    for m in LINK.finditer(body):
        url = m.group(0).rstrip(".,;:!?)")
        if m.start() > at:
            parts.append(Segment(body[at:m.start()]))
        parts.append(Segment(url, url))
        at = m.start() + len(url)
    if at < len(body):
        parts.append(Segment(body[at:]))
    return parts


def _folder_backend() -> bool:
    return str(current_app.config.get("MAIL_BACKEND", "")).strip().lower() == mail.FOLDER


@bp.after_app_request
def deliver_to_folder(response):
    """MAIL_BACKEND = "folder": write the mail this request queued (and committed) into MAIL_FOLDER
    before the answer goes out, the way the inline search sync applies its outbox."""
    if db.session.info.pop(mail.PENDING, False) and _folder_backend():
        try:
            with db.new_session() as fresh:
                mail.send_pending(fresh, mail.settings_from(current_app.config))
        except Exception:  # the change is committed; the mail stays queued for `notify send`
            log.exception("writing queued mail into MAIL_FOLDER failed")
    return response


@bp.get("/mailbox")
@login_required(ADMINS)
def mailbox():
    folder = str(current_app.config["MAIL_FOLDER"])
    to = request.args.get("to", "").strip()[:200]
    page = mail.read_folder(folder, page=parse_int(request.args, "page", 1, 1, MAX_PAGE), per_page=PER_PAGE,
                            to=to or None)
    return render_template("admin/mailbox.html", page=page, folder=folder, to=to, folder_backend=_folder_backend(),
                           segments=segments)
