"""An admin pairs a firm with a village in chat: 把云阳某某公司和龙角镇张家村结成帮扶对子."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from fupin.outreach.users import Identity
from fupin.pairing.register import PairingChange, PairingError, add_pairing
from fupin.parsing import normalize_text
from fupin.values import PairingSource

# 把A和B结成帮扶对子 / A与B结对帮扶 / 让A跟B结对: the firm before 和/与/跟, the village after it.
_PAIRING = re.compile(r"^(?:请|帮我)?(?:把|让|将)?(?P<firm>[^和与跟同]{2,60}?)(?:和|与|跟|同)(?P<village>[^，,。]{2,30}?)"
                      r"(?:结成|结为|建立|进行|开展)?(?:结对帮扶|帮扶结对|结对|帮扶对子|对子|帮扶关系)")  # fmt: skip


@dataclass(frozen=True)
class PairingRequest:
    """A firm and a village as a chat message names them."""

    firm: str
    village: str


def pairing_request_in(text: str) -> PairingRequest | None:
    """The firm and the village a sentence pairs, or None when it does not read as a pairing."""
    match = _PAIRING.search(normalize_text(text).replace(" ", ""))
    if match is None:
        return None
    return PairingRequest(match["firm"], match["village"])


def pair_by_chat(session: Session, identity: Identity, firm: str, village: str, on: date) -> PairingChange:
    """Pair a firm (registered as 爱心企业 when new) with a village from `on`; admins only; raises PairingError."""
    if not identity.is_admin:
        raise PairingError("只有县里的管理员可以登记结对帮扶。企业想结对帮扶贫困村，请联系县工商联。")
    return add_pairing(session, firm, village, on, PairingSource.CHAT, user_id=identity.user_id)


def pairing_reply(change: PairingChange) -> str:
    """What the admin is told after pairing."""
    pairing = change.pairing
    place = pairing.village.township.name + pairing.village.short_name
    if not change.opened:
        return f"{pairing.buyer.name}和{place}已经结对（{pairing.started_on:%Y-%m-%d}起），不用重复登记。"
    new = f"（已按爱心企业登记“{pairing.buyer.name}”）" if change.buyer_created else ""
    return (
        f"已登记：{pairing.buyer.name}与{place}结对帮扶，{pairing.started_on:%Y-%m-%d}起{new}。"
        f"以后{pairing.buyer.name}查找产品时会优先看到{pairing.village.short_name}的产品，"
        "从该村的采购计入百企帮百村。要结束结对，请在服务器上运行 python -m bot pairing end。"
    )
