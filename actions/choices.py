"""What a typed pick (第二个, 订购2) chooses from: the rules send it where a press of that list's button would go."""

from __future__ import annotations

import enum

# A featurised slot (domain/): data/rules.yml sends choose_listing to action_choose_listing while it
# says stock, and otherwise starts (or stays in) the order form, which reads the pick against the search shown.
CHOICE_SLOT = "choice_for"


class ChoiceFor(str, enum.Enum):
    """Lists whose typed picks are not orders."""

    STOCK = "stock"  # the listings a contact's stock message may be about
