"""Vocabulary changes written in a sentence: what is read from the wording, and what preview and apply do."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from fupin.catalog.vocabulary import VocabularyError
from fupin.catalog.vocabulary_requests import RequestKind, VocabularyRequest, apply, parse_request, preview
from fupin.models import Product, ProductAlias, VocabularyChange
from fupin.outreach.users import bind_user, identify
from fupin.values import Role
from tests.conftest import Database

ADD, REMOVE, MERGE = RequestKind.ADD_ALIAS, RequestKind.REMOVE_ALIAS, RequestKind.MERGE
TRAINING = Path(__file__).parents[1] / "data" / "nlu_vocabulary.yml"

READ = [
    # The phrasings.
    ("把奇异果设为猕猴桃的别名", VocabularyRequest(ADD, "奇异果", "猕猴桃")),
    ("奇异果是猕猴桃的别名", VocabularyRequest(ADD, "奇异果", "猕猴桃")),
    ("添加别名 奇异果 猕猴桃", VocabularyRequest(ADD, "奇异果", "猕猴桃")),
    ("删除别名奇异果", VocabularyRequest(REMOVE, "奇异果")),
    ("把红心猕猴桃并入猕猴桃", VocabularyRequest(MERGE, "红心猕猴桃", "猕猴桃")),
    ("红心猕猴桃合并到猕猴桃，品种红心", VocabularyRequest(MERGE, "红心猕猴桃", "猕猴桃", "红心")),
    # Politeness, quotes, full-width punctuation and other word orders.
    ("请把“藤梨”设成“猕猴桃”的别名。", VocabularyRequest(ADD, "藤梨", "猕猴桃")),
    ("麻烦把辣角设为辣椒的别名，谢谢", VocabularyRequest(ADD, "辣角", "辣椒")),
    ("给土豆加个别名叫阳芋", VocabularyRequest(ADD, "阳芋", "土豆")),
    ("新增别名：黄芽白 → 白菜", VocabularyRequest(ADD, "黄芽白", "白菜")),
    ("魔芋又叫鬼芋", VocabularyRequest(ADD, "鬼芋", "魔芋")),
    ("删除猕猴桃的别名藤梨", VocabularyRequest(REMOVE, "藤梨", "猕猴桃")),
    ("把羊桃从猕猴桃的别名里删掉", VocabularyRequest(REMOVE, "羊桃", "猕猴桃")),
    ("把土鸡蛋的别名农家蛋删掉", VocabularyRequest(REMOVE, "农家蛋", "土鸡蛋")),
    ("把毛梨子这个别名删了", VocabularyRequest(REMOVE, "毛梨子")),
    # Not an addition to "苕果不": removals are read first.
    ("苕果不是红薯的别名", VocabularyRequest(REMOVE, "苕果", "红薯")),
    ("九叶青花椒并到花椒里，品种九叶青", VocabularyRequest(MERGE, "九叶青花椒", "花椒", "九叶青")),
    ("农家老腊肉归到腊肉下面", VocabularyRequest(MERGE, "农家老腊肉", "腊肉")),
    ("合并产品 黄心洋芋 土豆", VocabularyRequest(MERGE, "黄心洋芋", "土豆")),
    ("冰糖橙是脐橙的品种", VocabularyRequest(MERGE, "冰糖橙", "脐橙")),
]


@pytest.mark.parametrize(("text", "expected"), READ, ids=[text for text, _ in READ])
def test_the_names_are_read_from_the_wording(text: str, expected: VocabularyRequest) -> None:
    assert parse_request(text) == expected


def test_every_training_example_is_understood() -> None:
    # The NLU sends these sentences to the action: each must be readable, or the admin gets "没看懂".
    examples = yaml.safe_load(TRAINING.read_text(encoding="utf-8"))["nlu"][0]["examples"]
    texts = [re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", line[2:]) for line in examples.splitlines() if line.strip()]
    assert len(texts) >= 25
    assert [text for text in texts if parse_request(text) is None] == []


@pytest.mark.parametrize(
    "text", ["哪里有奇异果", "奇异果是猕猴桃的别名吗", "土豆的库存记录", "删除别名", "把土豆并入土豆", "别名", ""]
)
def test_other_sentences_are_no_request(text: str) -> None:
    assert parse_request(text) is None


def test_a_long_message_is_refused_quickly() -> None:
    started = time.perf_counter()
    assert parse_request("把" + "奇" * 5000 + "设为猕猴桃的别名") is None
    assert parse_request("删除别名" + "藤梨" * 40) is None  # a name longer than any product's
    assert time.perf_counter() - started < 0.5


def test_a_request_survives_the_slot() -> None:
    for request in (VocabularyRequest(MERGE, "红心猕猴桃", "猕猴桃", "红心"), VocabularyRequest(REMOVE, "藤梨")):
        assert VocabularyRequest.from_slot(request.to_slot()) == request


ADMIN = "telegram:9001"


@pytest.fixture
def people(db: Database) -> Database:
    """The reference data (products and aliases) with an admin and a supply contact."""
    with db.sessions() as session, session.begin():
        bind_user(session, ADMIN, Role.ADMIN)
        bind_user(session, "telegram:1001", Role.CONTACT, township="龙角镇")
    return db


def test_preview_changes_nothing_and_apply_logs_the_admin(people: Database) -> None:
    request = parse_request("把藤梨设为奇异果的别名")
    assert request is not None
    with people.sessions() as session:
        shown = preview(session, identify(session, ADMIN), request)
    assert (shown.name, shown.product) == ("藤梨", "猕猴桃")  # the alias names the product itself
    with people.sessions() as session:
        assert session.scalar(select(ProductAlias).where(ProductAlias.alias == "藤梨")) is None
    with people.sessions() as session, session.begin():
        done = apply(session, identify(session, ADMIN), request)
    assert (done.name, done.product) == ("藤梨", "猕猴桃")
    with people.sessions() as session:
        change = session.scalars(select(VocabularyChange)).one()
        assert (change.kind, change.name, change.product, change.actor) == ("alias_added", "藤梨", "猕猴桃", ADMIN)


def test_only_admins_and_a_removal_must_name_the_right_product(people: Database) -> None:
    with people.sessions() as session:
        for sender in ("telegram:1001", "telegram:5555"):
            for request in (VocabularyRequest(ADD, "藤梨", "猕猴桃"), VocabularyRequest(REMOVE, "奇异果")):
                with pytest.raises(VocabularyError, match="只有县里的管理员"):
                    preview(session, identify(session, sender), request)
                with pytest.raises(VocabularyError, match="只有县里的管理员"):
                    apply(session, identify(session, sender), request)
        admin = identify(session, ADMIN)
        with pytest.raises(VocabularyError, match="“奇异果”是“猕猴桃”的别名，不是“土豆”的"):
            preview(session, admin, VocabularyRequest(REMOVE, "奇异果", "土豆"))
        assert preview(session, admin, VocabularyRequest(REMOVE, "奇异果", "猕猴桃")).product == "猕猴桃"
        with pytest.raises(VocabularyError, match="是目录里的一个产品，请用合并：把红薯并入土豆"):
            preview(session, admin, VocabularyRequest(ADD, "红薯", "土豆"))
        merge = preview(session, admin, VocabularyRequest(MERGE, "红薯", "洋芋"))
        assert (merge.name, merge.product, merge.variety, merge.listings) == ("红薯", "土豆", "", 0)
    with people.sessions() as session:
        assert session.scalar(select(Product.id).where(Product.name == "红薯")) is not None
        assert session.scalars(select(VocabularyChange)).all() == []
