"""The product vocabulary the county keeps: listing products, adding and removing aliases, merging products."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from fupin.catalog.listings import ProductNames, add_alias, canonical_product_name
from fupin.models import Listing, Order, Product, ProductAlias, SaleRecord, VocabularyChange
from fupin.outreach.users import Identity
from fupin.parsing import normalize_text

logger = logging.getLogger(__name__)


class ChangeKind(str, enum.Enum):
    """What a vocabulary change did (VocabularyChange.kind)."""

    ALIAS_ADDED = "alias_added"
    ALIAS_REMOVED = "alias_removed"
    MERGED = "merged"


class VocabularyError(ValueError):
    """A vocabulary change that cannot be made, with the reason in Chinese."""


@dataclass(frozen=True)
class ProductEntry:
    """One product of the vocabulary: its aliases and how many active listings it has."""

    name: str
    aliases: tuple[str, ...]
    listings: int


@dataclass(frozen=True)
class MergeResult:
    """What merging a product into another moved."""

    source: str
    target: str
    variety: str
    listings: int
    orders: int
    sale_records: int
    aliases: int


def _name(written: str) -> str:
    return normalize_text(written).replace(" ", "")


def _record(session: Session, kind: ChangeKind, product: str, name: str, actor: str, variety: str = "",
            detail: str = "") -> None:  # fmt: skip
    session.add(
        VocabularyChange(kind=kind.value, product=product, name=name, variety=variety, detail=detail, actor=actor)
    )
    session.flush()
    logger.info("vocabulary %s: product=%s name=%s variety=%s %s by %s", kind.value, product, name, variety, detail,
                actor)  # fmt: skip


def list_products(session: Session) -> list[ProductEntry]:
    """Every product with its aliases and active listing count, alphabetically."""
    counts = dict(
        session.execute(
            select(Listing.product_id, func.count(Listing.id))
            .where(Listing.active.is_(True))
            .group_by(Listing.product_id)
        ).all()
    )
    aliases: dict[int, list[str]] = {}
    for product_id, alias in session.execute(select(ProductAlias.product_id, ProductAlias.alias)):
        aliases.setdefault(product_id, []).append(alias)
    return [
        ProductEntry(name, tuple(sorted(aliases.get(pid, []))), counts.get(pid, 0))
        for pid, name in session.execute(select(Product.id, Product.name).order_by(Product.name))
    ]


def _product(session: Session, name: str) -> Product:
    product = session.scalar(select(Product).where(Product.name == name))
    if product is None:
        raise VocabularyError(f"目录里没有产品“{name}”")
    return product


def check_may_edit(identity: Identity) -> None:
    """Only county admins keep the vocabulary by chat (the command line is the county's operator)."""
    if not identity.is_admin:
        raise VocabularyError("只有县里的管理员才能修改产品名称、别名和合并产品。如需修改，请联系县农业农村委。")


def check_alias(session: Session, alias: str, product: str) -> tuple[str, str]:
    """The alias and the product it would name, as stored (奇异果, 猕猴桃); raises VocabularyError if it cannot be added."""
    alias, product = _name(alias), _name(product)
    target = canonical_product_name(session, product)
    if target is None:
        raise VocabularyError(f"目录里没有产品“{product}”")
    known = canonical_product_name(session, alias)
    if known == target:
        raise VocabularyError(f"“{alias}”已经是“{target}”的名称或别名了")
    if known is not None:
        if session.scalar(select(Product.id).where(Product.name == alias)) is not None:
            raise VocabularyError(
                f"“{alias}”是目录里的一个产品，请用合并：把{alias}并入{target}"
                f"（命令行：catalog products merge {alias} --into {target}）"
            )
        raise VocabularyError(f"“{alias}”已经是“{known}”的别名，请先删除")
    return alias, target


def add_product_alias(session: Session, alias: str, product: str, actor: str) -> None:
    """Make `alias` another name of an existing product (奇异果 → 猕猴桃); raises VocabularyError."""
    alias, target = check_alias(session, alias, product)
    add_alias(session, target, alias)
    _record(session, ChangeKind.ALIAS_ADDED, target, alias, actor)


def alias_owner(session: Session, alias: str) -> str:
    """The product an alias names; raises VocabularyError when there is no such alias."""
    alias = _name(alias)
    product = session.scalar(select(Product.name).join(ProductAlias).where(ProductAlias.alias == alias))
    if product is None:
        raise VocabularyError(f"没有叫“{alias}”的别名")
    return product


def remove_product_alias(session: Session, alias: str, actor: str) -> str:
    """Remove an alias; returns the product it pointed at; raises VocabularyError."""
    alias = _name(alias)
    row = session.scalar(select(ProductAlias).where(ProductAlias.alias == alias))
    if row is None:
        raise VocabularyError(f"没有叫“{alias}”的别名")
    product = row.product.name
    session.delete(row)
    session.flush()
    _record(session, ChangeKind.ALIAS_REMOVED, product, alias, actor)
    return product


@dataclass(frozen=True)
class MergePlan:
    """What merging a product into another would move, before it is done."""

    source: str
    target: str
    variety: str
    listings: int
    orders: int


@dataclass(frozen=True)
class _Merge:
    old: Product
    new: Product
    variety: str
    listings: list[Listing]
    keys: dict[int, str]
    orders: int


def _plan(session: Session, source: str, target: str, variety: str | None) -> _Merge:
    source_name, target_name = _name(source), _name(target)
    old = _product(session, source_name)
    new = _product(session, canonical_product_name(session, target_name) or target_name)
    if old.id == new.id:
        raise VocabularyError(f"“{source_name}”和“{target_name}”是同一个产品")
    if variety is None:
        forms = ProductNames({n: new.name for n in [new.name, *(a.alias for a in new.aliases)]})
        resolved, rest = forms.resolve(old.name)
        variety = rest if resolved == new.name else ""
    variety = _name(variety)
    listings = list(session.scalars(select(Listing).where(Listing.product_id == old.id).order_by(Listing.id)))
    keys = {
        listing.id: _moved_key(listing.listing_key, old.name, listing.variety, new.name, listing.variety or variety)
        for listing in listings
    }
    taken = set(session.scalars(select(Listing.listing_key).where(Listing.listing_key.in_(keys.values()))))
    if taken or len(set(keys.values())) != len(keys):
        raise VocabularyError(
            f"“{new.name}”已有同一地区、贫困户、品种的目录条目（{'、'.join(sorted(taken))}），请先处理"
        )
    orders = 0
    if listings:
        orders = session.scalar(select(func.count(Order.id)).where(Order.listing_id.in_(list(keys)))) or 0
    return _Merge(old, new, variety, listings, keys, orders)


def plan_merge(session: Session, source: str, target: str, variety: str | None = None) -> MergePlan:
    """What `merge_products` would move, changing nothing; raises VocabularyError as it would."""
    plan = _plan(session, source, target, variety)
    return MergePlan(plan.old.name, plan.new.name, plan.variety, len(plan.listings), plan.orders)


def merge_products(session: Session, source: str, target: str, actor: str, variety: str | None = None) -> MergeResult:
    """Fold product `source` into `target`: its listings (with their orders), sale records and aliases follow.

    The source's name stays as an alias of the target, so what people write keeps working. Listings of
    the source without a variety get `variety` (by default what the source's name adds to the target's:
    红心猕猴桃 → 红心). Raises VocabularyError, changing nothing, when a moved listing would collide.
    """
    plan = _plan(session, source, target, variety)
    old, new, variety = plan.old, plan.new, plan.variety
    for listing in plan.listings:
        listing.listing_key = plan.keys[listing.id]
        listing.variety = listing.variety or variety
        listing.product_id = new.id
    sale_records = _rename_sale_records(session, old.name, new.name, variety)
    moved_aliases = session.execute(
        update(ProductAlias).where(ProductAlias.product_id == old.id).values(product_id=new.id)
    ).rowcount
    session.flush()
    session.expire(new, ["aliases"])
    session.delete(old)
    session.flush()
    add_alias(session, new.name, old.name)
    listings, orders = len(plan.listings), plan.orders
    detail = f"listings={listings} orders={orders} sale_records={sale_records} aliases={moved_aliases}"
    _record(session, ChangeKind.MERGED, new.name, old.name, actor, variety=variety, detail=detail)
    return MergeResult(old.name, new.name, variety, listings, orders, sale_records, moved_aliases)


def _moved_key(key: str, old_product: str, old_variety: str, new_product: str, new_variety: str) -> str:
    # The key ends with "/<product>/<variety or ->"; its place and household part stays as it is.
    suffix = f"/{old_product}/{old_variety or '-'}"
    if not key.endswith(suffix):
        raise VocabularyError(f"目录条目的编号“{key}”无法识别")
    return f"{key[: -len(suffix)]}/{new_product}/{new_variety or '-'}"


def _rename_sale_records(session: Session, old: str, new: str, variety: str) -> int:
    # Sale records name the product as written (红心猕猴桃, 红心猕猴桃（大果）); they take the target's name,
    # the merged name's variety in brackets, so 附件2/附件3 show the product the catalogue now has.
    records = session.scalars(
        select(SaleRecord).where(
            or_(SaleRecord.product_name == old, SaleRecord.product_name.startswith(f"{old}（", autoescape=True))
        )
    ).all()
    for record in records:
        own = record.product_name[len(old) + 1 : -1] if record.product_name != old else ""
        kept = own or variety
        record.product_name = f"{new}（{kept}）" if kept else new
    return len(records)
