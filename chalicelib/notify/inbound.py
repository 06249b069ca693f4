"""The citizen's reply to the closure SMS: "1" 满意, "2" 基本满意, "3" 不满意.

It rates the most recent closed petition of that phone that awaits a rating
(found through the keyed phone hash, never the number in clear). Anything
else is ignored with a logged reason. In AWS the replies arrive through SNS
two-way SMS on a topic; on the local stack through ``POST /_local/sms/inbound``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from chalicelib.auth.identity import CHANNEL, Identity
from chalicelib.errors import FztError
from chalicelib.petitions.domain import Env, Petition, rate
from chalicelib.petitions.ports import Committer
from chalicelib.petitions.service import main_of
from chalicelib.privacy import phone_hash
from chalicelib.validation import parse_mobile

log = logging.getLogger("fzt.notify.inbound")

RATINGS = {"1": "satisfied", "2": "basically_satisfied", "3": "dissatisfied"}
LOOK_BACK = 20  # the phone's most recent petitions considered
OPT_OUT = ("TD", "T", "退订")  # 退订: no more publicity SMS (petition replies still reach the phone)


class PetitionReads(Protocol):
    def get(self, petition_id: str) -> Petition | None: ...
    def by_phone(self, phone_hash: str, limit: int) -> list[str]: ...


def ignored(reason: str) -> dict:
    log.info("inbound SMS ignored", extra={"reason": reason})
    return {"outcome": "ignored", "reason": reason}


@dataclass
class Inbound:
    petitions: PetitionReads
    uow: Committer
    env: Callable[[], Env]
    # The citizen's TD (退订): foresight's broadcasts skip the phone from then on.
    opt_out: Callable[[str], dict] | None = None

    def handle_reply(self, sender: str, text: str) -> dict:
        try:
            e164 = parse_mobile(sender)
        except ValueError:
            return ignored("sender is not a mainland mobile number")
        answer = re.sub(r"[\s。.!！]", "", text or "")
        if answer.upper() in OPT_OUT and self.opt_out is not None:
            self.opt_out(e164)
            return {"outcome": "recorded", "reason": "opted out of publicity SMS (TD)"}
        rating = RATINGS.get(answer)
        if rating is None:
            return ignored("not a rating reply (1/2/3)")
        env = self.env()
        for pid in self.petitions.by_phone(phone_hash(e164), LOOK_BACK):
            p = self.petitions.get(pid)
            if p is None:
                continue
            main = None
            if p.status == "merged" and p.rating is None:  # 并单: rates the main petition's outcome
                main = main_of(self.petitions.get, p)
                if main is None or main.status != "closed":
                    continue
            elif p.status != "closed" or not p.awaiting_feedback:
                continue
            citizen = Identity(kind=CHANNEL, name=p.channel, role="channel")
            try:
                outcome = rate(p, main, citizen, {"rating": rating, "comment": "短信回复"}, env)
                self.uow.commit(outcome, env)
            except FztError as err:
                return ignored(f"could not record: {err.code}")
            return {"outcome": "recorded", "petition": p.id, "rating": rating}
        return ignored("no closed petition of this phone awaits a rating")
