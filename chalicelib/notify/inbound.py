"""The citizen's reply to the closure SMS: "1" 满意, "2" 基本满意, "3" 不满意.

It rates the most recent closed petition of that phone that awaits a rating
(found through the keyed phone hash, never the number in clear). Anything
else is ignored with a logged reason. In AWS the replies arrive through SNS
two-way SMS on a topic; on the local stack through ``POST /_local/sms/inbound``.
"""

from __future__ import annotations

import logging
import re

from chalicelib import db
from chalicelib.auth.identity import CHANNEL, Identity
from chalicelib.errors import FztError
from chalicelib.intake.models import parse_mobile
from chalicelib.notify import publisher
from chalicelib.petitions import repository
from chalicelib.petitions.domain import apply
from chalicelib.petitions.env import current_env
from chalicelib.petitions.models import PetitionItem
from chalicelib.privacy import phone_hash

log = logging.getLogger("fzt.notify.inbound")

RATINGS = {"1": "satisfied", "2": "basically_satisfied", "3": "dissatisfied"}
LOOK_BACK = 20  # the phone's most recent petitions considered


def ignored(reason: str) -> dict:
    log.info("inbound SMS ignored", extra={"reason": reason})
    return {"outcome": "ignored", "reason": reason}


def handle_reply(sender: str, text: str) -> dict:
    try:
        e164 = parse_mobile(sender)
    except ValueError:
        return ignored("sender is not a mainland mobile number")
    answer = re.sub(r"[\s。.!！]", "", text or "")
    rating = RATINGS.get(answer)
    if rating is None:
        return ignored("not a rating reply (1/2/3)")
    db.bound()
    keys = PetitionItem.by_phone.query(phone_hash(e164), scan_index_forward=False, limit=LOOK_BACK)
    env = current_env()
    for key in keys:
        p = repository.get(key.id)
        if p is None or p.status != "closed" or not p.awaiting_feedback:
            continue
        citizen = Identity(kind=CHANNEL, name=p.channel, role="channel")
        try:
            outcome = apply(p, "feedback", citizen, {"rating": rating, "comment": "短信回复"}, env)
            repository.commit(outcome, env)
        except FztError as err:
            return ignored(f"could not record: {err.code}")
        publisher.after_commit(outcome, env)
        return {"outcome": "recorded", "petition": p.id, "rating": rating}
    return ignored("no closed petition of this phone awaits a rating")
