"""Answering for a product the catalogue lacks: name it, offer what is close, say whom to ask."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.common import Services, button
from fupin.catalog.search import UnknownProduct

# The plan (云阳府办发〔2019〕95号) makes 县农业农村委 keep the catalogue current with the townships.
ASK_THE_COUNTY = "想采购目录里没有的产品，可以联系县农业农村委（负责更新供货目录），请乡镇帮您问问贫困户。"


def say_unknown_product(services: Services, dispatcher: CollectingDispatcher, unknown: UnknownProduct) -> None:
    """Say the catalogue lacks the product, with buttons for the closest ones (or a sample of what there is)."""
    lines = [f"目录里暂时没有{unknown.written}。"]
    buttons: list[dict[str, Any]] = []
    if unknown.closest:
        lines.append(f"相近的有：{'、'.join(unknown.closest)}，可以点下面看看。")
        buttons = [button(f"哪里有{name}", "search_product", product=name) for name in unknown.closest]
    else:
        lines.append(f"目前有：{'、'.join(unknown.available[:15])}等。")
    lines.append(ASK_THE_COUNTY)
    dispatcher.utter_message(text="\n".join(lines), buttons=buttons)


def unknown_product_in(services: Services, written: str | None, text: str = "") -> UnknownProduct | None:
    """The unknown product a message names (an entity, or the word its frame asks for), else None."""
    return services.search.unknown_product(written, text)
