"""The Chinese lines of pre-orders and adoptions: the read-back's line, search tags, and the harvest's pushes."""

from __future__ import annotations

from datetime import date

from fupin.values import OfferKind, Quantity, format_yuan


def month_label(month: date | None) -> str:
    """2026年12月 (empty when unknown)."""
    return f"{month.year}年{month.month}月" if month else ""


def offer_line(product: str, offer: OfferKind | str, expected_month: date | None, terms: str) -> str:
    """The read-back's line of what is bought: 这是预订：脐橙预计2026年12月上市 / 这是认养：一头年猪…; empty for 现货."""
    kind = OfferKind(offer)
    if kind is OfferKind.PRE_ORDER:
        when = f"预计{month_label(expected_month)}上市" if expected_month else "上市时间待定"
        return f"这是预订：{product}{when}，收获后按下单先后供货，收获不足时可能只能部分满足或无法满足。"
    if kind is OfferKind.ADOPTION:
        return f"这是认养：{terms or product}"
    return ""


def offer_tag(offer: OfferKind | str, expected_month: date | None) -> str:
    """A search result's tag: 预售·12月上市 / 认养; empty for 现货."""
    kind = OfferKind(offer)
    if kind is OfferKind.PRE_ORDER:
        return f"预售·{expected_month.month}月上市" if expected_month else "预售"
    if kind is OfferKind.ADOPTION:
        return "认养"
    return ""


# What a listing's stock figure is: goods in hand, an expected harvest still to pre-order, adoptions still open.
_LEFT_WORDS = {OfferKind.IN_HAND: "剩", OfferKind.PRE_ORDER: "可预订", OfferKind.ADOPTION: "可认养"}


def left_word(offer: OfferKind | str) -> str:
    """The word before a listing's stock figure: 剩 / 可预订 / 可认养."""
    return _LEFT_WORDS[OfferKind(offer)]


def available_phrase(offer: OfferKind | str, expected_month: date | None, terms: str, left: Quantity) -> str:
    """What the order form says is left: 还剩300斤 / 预售（12月上市），还可预订5000斤 / 认养（…），还可认养8头."""
    kind = OfferKind(offer)
    still = f"还{left_word(kind)}{left}"
    if kind is OfferKind.PRE_ORDER:
        when = f"（{expected_month.month}月上市）" if expected_month else ""
        return f"预售{when}，{still}"
    if kind is OfferKind.ADOPTION:
        return f"认养（{terms}），{still}" if terms else f"认养，{still}"
    return still


def expected_done(product: str, place: str, quantity: Quantity, month: date, price_fen: int, unit: str) -> str:
    """What announcing an expected harvest did."""
    return (
        f"已登记预售：{place}的{product}预计{month_label(month)}上市，预计{quantity}，"
        f"预订价{format_yuan(price_fen)}元/{unit}。采购方现在就可以预订；收获后请说“{product}实际收获多少斤”。"
    )


def harvest_filled(order_no: str, product: str, quantity: Quantity, contact: str) -> str:
    """The push to a buyer whose pre-order the harvest fills."""
    return (
        f"您的预订 {order_no}（{product}{quantity}）已经收获，可以供货了，供货联系人会按约定送货或联系您自提。{contact}"
    )


def harvest_partly(
    order_no: str, product: str, ordered: Quantity, filled: Quantity, amount_fen: int, contact: str
) -> str:
    """The push to a buyer whose pre-order the harvest fills only in part."""
    return (
        f"您的预订 {order_no}（{product}{ordered}）：实际收获不足，按下单先后只能满足{filled}，"
        f"金额改为{format_yuan(amount_fen)}元。不要了可以说“取消订单{order_no}”。{contact}"
    )


def harvest_unfilled(order_no: str, product: str, ordered: Quantity, contact: str) -> str:
    """The push to a buyer whose pre-order the harvest cannot fill."""
    return (
        f"很抱歉，您的预订 {order_no}（{product}{ordered}）：实际收获不足，按下单先后没能满足，"
        f"订单已改为“未满足”，不用付款。可以换一家再订。{contact}"
    )


def harvest_summary(
    product: str, place: str, real: Quantity, filled: int, partly: int, unfilled: int, left: Quantity
) -> str:
    """What a confirmed harvest did, for the contact (the reply and the other contacts' push)."""
    parts = [f"{place}的{product}实际收获{real}：{filled}个预订全部满足"]
    if partly:
        parts.append(f"{partly}个部分满足")
    if unfilled:
        parts.append(f"{unfilled}个未满足（已通知采购方）")
    return "，".join(parts) + f"；剩余可售{left}，已转为现货。请按订单发货。"


def adoption_push(product: str, place: str, text: str, photo: bool) -> str:
    """A progress update as its adopters read it."""
    return f"【认养进展】您认养的{place}{product}：{text}" + ("（附照片）" if photo else "")
