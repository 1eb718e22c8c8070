"""Every regex that sees user or spreadsheet text runs in linear time: 100k-character adversarial input is cheap.

Python's `re` holds the GIL while it matches, so one quadratic pattern fed one crafted cell or message stalls
Telegram and the dialogue with it, worker thread or not. The patterns are collected, not listed: every compiled
pattern in a module's globals (tuples, lists and dicts included) and every literal pattern passed inline to
`re.search`/`re.sub`/… in the source, so a new one is covered without touching this file. Inline patterns that
are built at run time (f-strings, loop variables) are exercised through the function that builds them, and the
test fails when a new one appears that is not listed here.
"""

from __future__ import annotations

import ast
import importlib
import random
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

# Every pattern through 100k-character adversarial texts is about 110 s of CPU: `make test` runs it, the edit
# loop (`make test-fast`) leaves it out.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("fupin", "nlu", "actions", "bot")
BUDGET_SECONDS = 0.5
# A parser runs several patterns and converts every match (find_mentions: five scans, then a parse per span):
# linear still, but 0.2 s on 100k characters of noise on an idle machine, so twice the budget.
PARSER_BUDGET_SECONDS = 1.0
# Growing sizes: a super-linear pattern fails on a small input in a fraction of a second instead of
# running for hours on the big one (the old cooperative pattern was cubic in a whitespace run).
SIZES = (1_000, 10_000, 100_000)
RE_FUNCTIONS = {"compile", "search", "match", "fullmatch", "sub", "subn", "split", "findall", "finditer"}
# Inline patterns the source builds at run time, by "module:function", and how the test drives each one.
BUILT_AT_RUN_TIME = {
    "fupin.spreadsheets.forms:_parse_meta",
    "fupin.orders.buyers:guess_category",
}


def _adversarial(n: int) -> dict[str, str]:
    rnd = random.Random(n)
    alphabet = list(
        "0123456789 .-/（()）户元块斤角毛每一二三四五六七八九十百千万点合作社涉及贫困户第季度年月日:：、,，\t"
    )
    return {
        "digits": "1" * n,
        "digits then letter": "1" * n + "x",
        "spaces": " " * n + "x",
        "digit then spaces": "1" + " " * n + "x",
        "mixed whitespace": " \t\u3000\n" * (n // 4) + "x",
        "cooperative digits": "合作社" + "1" * n,
        "cooperative spaces": "合作社（涉及" + " " * n + "x",
        "households": "户" * n,
        "open brackets": "（" * n,
        "bracket space": "（ " * (n // 2),
        "count phrases": "合作社（涉及贫困户 12 户" * (n // 14),
        "attributes": "<c " + 'a="b" ' * (n // 6),
        "cell refs": "<c " + 'r="A1" ' * (n // 7),
        "cell tags": "<c " * (n // 3),
        "formula then spaces": '<c r="A1"><f>x</f>' + " " * n,
        "tag then word": "<" + "a" * n,
        "chinese text": "云阳县龙角镇脐橙土豆蜂蜜" * (n // 12),
        "chinese numerals": "一二三四五六七八九十百千万" * (n // 13),
        "decimal points": "1." * (n // 2),
        "dashes": "1-" * (n // 2),
        "dates": "2019." * (n // 5),
        "money": "3元" * (n // 2),
        "per unit": "每斤" * (n // 2),
        "phones": "86 1" * (n // 4),
        "zeros": "0" * n,
        "labels": "填写单位x" + " " * n + "y",
        "label runs": "填写单位" * (n // 4) + "\n",
        "random": "".join(rnd.choice(alphabet) for _ in range(n)),
    }


def _source_modules() -> list[str]:
    names = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            if re.search(r"^import re$|^from re import", path.read_text(encoding="utf-8"), re.MULTILINE):
                names.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return names


def _patterns_in(value: Any, depth: int = 0) -> Iterator[re.Pattern[str]]:
    if isinstance(value, re.Pattern):
        yield value
    elif depth < 3 and isinstance(value, (tuple, list, frozenset, set)):
        for item in value:
            yield from _patterns_in(item, depth + 1)
    elif depth < 3 and isinstance(value, dict):
        for item in value.values():
            yield from _patterns_in(item, depth + 1)


def _flags(call: ast.Call) -> int:
    flags = 0
    candidates = [k.value for k in call.keywords if k.arg == "flags"] + call.args[3 if call.func.attr == "sub" else 2 :]  # type: ignore[attr-defined]
    for node in candidates:
        for attr in ast.walk(node):
            if isinstance(attr, ast.Attribute) and isinstance(attr.value, ast.Name) and attr.value.id == "re":
                flags |= int(getattr(re, attr.attr))
    return flags


def _inline(module: ModuleType) -> tuple[list[tuple[str, re.Pattern[str]]], set[str]]:
    # Literal (or module-constant) patterns passed to re.*, and the functions that build one at run time.
    assert module.__file__ is not None
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    found: list[tuple[str, re.Pattern[str]]] = []
    built: set[str] = set()
    for function in [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]:
        for call in ast.walk(function):
            if not (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and isinstance(call.func.value, ast.Name)
                and call.func.value.id == "re"
                and call.func.attr in RE_FUNCTIONS
                and call.args
            ):
                continue
            where = f"{module.__name__}:{function.name}"
            first = call.args[0]
            pattern: object = None
            if isinstance(first, ast.Constant):
                pattern = first.value
            elif isinstance(first, ast.Name):
                pattern = getattr(module, first.id, None)
            if isinstance(pattern, str):
                found.append((f"{where} {pattern!r}", re.compile(pattern, _flags(call))))
            elif not isinstance(pattern, re.Pattern):
                built.add(where)
    return found, built


def _all_patterns() -> tuple[list[tuple[str, re.Pattern[str]]], set[str]]:
    patterns: dict[tuple[str, int], str] = {}
    built: set[str] = set()
    for name in _source_modules():
        module = importlib.import_module(name)
        for attribute, value in vars(module).items():
            for pattern in _patterns_in(value):
                patterns.setdefault((pattern.pattern, pattern.flags), f"{name}.{attribute}")
        inline, runtime = _inline(module)
        built |= runtime
        for where, pattern in inline:
            patterns.setdefault((pattern.pattern, pattern.flags), where)
    compiled = [(where, re.compile(pattern, flags)) for (pattern, flags), where in patterns.items()]
    return sorted(compiled, key=lambda p: p[0]), built


PATTERNS, BUILT = _all_patterns()


def _timed(call: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def _assert_linear(
    what: str, run: Callable[[str], object], budget: float = BUDGET_SECONDS, texts: set[str] | None = None
) -> set[str]:
    """Time `run` on every adversarial text (or only those in `texts`); return the texts it found something in."""
    found: set[str] = set()
    for size in SIZES:
        for kind, text in _adversarial(size).items():
            if texts is not None and text not in texts:
                continue
            elapsed, result = _timed(lambda text=text: run(text))  # type: ignore[misc]
            # Other processes share the CPU: an over-budget call is timed twice more and the fastest kept.
            # A linear pattern then takes milliseconds; a super-linear one stays slow every time.
            for _ in range(2):
                if elapsed < budget:
                    break
                elapsed = min(elapsed, _timed(lambda text=text: run(text))[0])  # type: ignore[misc]
            assert elapsed < budget, f"{what} took {elapsed:.2f}s on {size} characters of {kind!r}"
            if result:
                found.add(text)
    return found


def test_the_patterns_are_found() -> None:
    """The collection finds the patterns the issue named, module constants and inline ones alike."""
    names = {where for where, _ in PATTERNS}
    assert "fupin.catalog.attachment1._COOPERATIVE_COUNT" in names
    assert "fupin.spreadsheets.grid._UNCOMPUTED_FORMULA" in names
    # An inline literal (normalize_text's r"\s+", first claimed by whichever module is read first) is found too.
    assert any(pattern.pattern == r"\s+" and ":" in where for where, pattern in PATTERNS)
    assert len(PATTERNS) > 40


def test_patterns_built_at_run_time_are_all_driven_here() -> None:
    """A new pattern built at run time must get a driver in this module."""
    assert set(BUILT) == BUILT_AT_RUN_TIME


@pytest.mark.parametrize(("where", "pattern"), PATTERNS, ids=[where for where, _ in PATTERNS])
def test_pattern_is_linear(where: str, pattern: re.Pattern[str]) -> None:
    """search, fullmatch and findall each finish well under a second on 100k adversarial characters."""
    matched = _assert_linear(f"{where}.search", pattern.search)
    _assert_linear(f"{where}.fullmatch", pattern.fullmatch)
    # Where search finds nothing, findall makes the very same scan again: it is timed where there are matches.
    _assert_linear(f"{where}.findall", pattern.findall, texts=matched)


def _drivers() -> dict[str, Callable[[str], object]]:
    from fupin.catalog.attachment1 import ATTACHMENT1, parse_household, parse_product
    from fupin.mentions import find_mentions
    from fupin.orders.buyers import clean_unit_name, guess_category
    from fupin.parsing import ParseError, parse_amount, parse_phone, parse_price, parse_quantity, split_contact
    from fupin.periods import parse_period
    from fupin.reporting.attachment2 import ATTACHMENT2, parse_sale_date
    from fupin.spreadsheets.forms import _parse_meta
    from fupin.spreadsheets.grid import header_key

    def contact(text: str) -> object:
        try:
            return split_contact(text)
        except ParseError:
            return None

    return {
        "parse_household": parse_household,
        "parse_product": parse_product,
        "parse_quantity": lambda text: parse_quantity(text, "斤"),
        "parse_price": lambda text: parse_price(text, "斤"),
        "parse_amount": parse_amount,
        "parse_phone": parse_phone,
        "split_contact": contact,
        "parse_period": parse_period,
        "parse_sale_date": lambda text: parse_sale_date(text, 2019),
        "header_key": header_key,
        "附件1 meta": lambda text: _parse_meta(text, ATTACHMENT1.meta_labels),
        "附件2 meta": lambda text: _parse_meta(text, ATTACHMENT2.meta_labels),
        "guess_category": guess_category,
        "clean_unit_name": clean_unit_name,
        "find_mentions": find_mentions,
    }


@pytest.mark.parametrize("name", sorted(_drivers()))
def test_parsers_are_linear(name: str) -> None:
    """The functions that build their patterns at run time, and the parsers that chain several, stay linear."""
    _assert_linear(name, _drivers()[name], PARSER_BUDGET_SECONDS)


def test_cooperative_count_is_unchanged() -> None:
    """The linear cooperative count reads every real phrasing as the single pattern did."""
    from fupin.catalog.attachment1 import cooperative_count_spans, parse_household

    old = re.compile(r"[（(]?\s*(?:涉及)?(?:贫困户)?\s*(\d+)\s*户\s*[)）]?")
    cells = [
        "黄石合作社（涉及贫困户12户）",
        "黄石合作社(涉及贫困户 12 户)",
        "黄石合作社 涉及贫困户12户",
        "黄石合作社（12户）",
        "黄石合作社12户",
        "黄石合作社（涉及 3 户）其他 4户",
        "黄石合作社 （贫困户 7户） 备注",
        "黄石合作社",
        "合作社123",
        "黄石合作社（涉及贫困户十二户）",
    ]
    tokens = ["（", "(", "）", ")", " ", "\t", "涉及", "贫困户", "户", "1", "23", "合作社", "x", "涉", "困"]
    rnd = random.Random(7)
    cells += ["".join(rnd.choice(tokens) for _ in range(rnd.randint(0, 14))) for _ in range(5000)]
    for cell in cells:
        assert cooperative_count_spans(cell) == [(m.start(), m.end(), m.group(1)) for m in old.finditer(cell)], cell
    assert parse_household("黄石合作社（涉及贫困户12户）") is not None
    ref = parse_household("黄石合作社（涉及贫困户12户）")
    assert ref is not None and (ref.name, ref.is_cooperative, ref.poor_households) == ("黄石合作社", True, 12)


def test_uncomputed_formula_is_unchanged() -> None:
    """The linear formula-cell pattern finds the same cells, references and formulas in well-formed XML."""
    from fupin.spreadsheets.grid import _CELL_REF, _UNCOMPUTED_FORMULA

    old = re.compile(
        r"<(?:\w+:)?c\s[^>]*?\br=\"([A-Z]{1,3})([0-9]+)\"[^>]*(?<!/)>\s*"
        r"<(?:\w+:)?f\b[^>]*?(?:/>|>([^<]*)</(?:\w+:)?f>)\s*"
        r"(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>"
    )

    def new(xml: str) -> list[tuple[str, str, str | None]]:
        out = []
        for match in _UNCOMPUTED_FORMULA.finditer(xml):
            ref = _CELL_REF.search(match[1])
            if ref is not None:
                out.append((ref[1], ref[2], match[2]))
        return out

    rnd = random.Random(11)
    attributes = [' r="A1"', ' r="BC23"', ' t="str"', ' s="2"', ' xr="C3"', ' r="a1"', "  ", '\n r="D4"', ' r="ABCD1"']
    matched = 0
    for _ in range(20000):
        parts = []
        for _ in range(rnd.randint(1, 3)):
            parts += [
                rnd.choice(["<c", "<x:c", "<cc"]) + "".join(rnd.choices(attributes, k=rnd.randint(0, 4))),
                rnd.choice([">", "/>", " >"]),
                rnd.choice(["", " ", "\n  "]),
                rnd.choice(["<f>A1+1</f>", "<f/>", '<f t="shared" si="0"/>', "<x:f>B&quot;</x:f>", "<fx>", "<f>", ""]),
                rnd.choice(["", " ", "\n"]),
                rnd.choice(["<v/>", "<v></v>", "<v> </v>", "<v>3</v>", "<x:v/>", "", "<v />"]),
                rnd.choice(["", " ", "\n"]),
                rnd.choice(["</c>", "</x:c>", "", "<is><t>a</t></is></c>"]),
            ]
        xml = "".join(parts)
        expected = [(m[1], m[2], m[3]) for m in old.finditer(xml)]
        assert new(xml) == expected, xml
        matched += bool(expected)
    assert matched > 1000


def test_meta_line_is_read_as_before() -> None:
    """The linear 填写单位 reader gives what the old pattern gave on the meta rows townships write."""
    from fupin.catalog.attachment1 import ATTACHMENT1
    from fupin.spreadsheets.forms import _parse_meta

    labels = ATTACHMENT1.meta_labels
    others = "|".join(re.escape(label) for label in labels)

    def old(text: str) -> dict[str, str]:
        meta = {}
        for label in labels:
            match = re.search(rf"{re.escape(label)}\s*[:：]?\s*(.*?)\s*(?=(?:{others})\s*[:：]|$)", text)
            if match:
                meta[label] = match.group(1).strip(" :：")
        return meta

    lines = [
        "填写单位：龙角镇 填写人：张xx 联系电话：023-55123456 填写日期：2026-11-01",
        "填写单位:龙角镇 填写人: 张xx 联系电话 : 023-55123456 填写日期：",
        "填写单位 龙角镇 填写人 张xx",
        "填写单位：  填写人：  联系电话：  填写日期：",
        "附件1 乡镇（街道）贫困户农特产品待销目录 填写单位：龙角镇人民政府 填写日期：2026年11月1日 ",
        "填写人：李四：：",
        "",
    ]
    rnd = random.Random(3)
    words = ["填写单位", "填写人", "联系电话", "填写日期", "：", ":", " ", "龙角镇", "张", "023", "x"]
    lines += [" ".join("".join(rnd.choices(words, k=rnd.randint(0, 10))).split()) for _ in range(3000)]
    for line in lines:
        assert _parse_meta(line, labels) == old(line), line


def test_quantities_are_read_as_before() -> None:
    """The quantity pattern without adjacent \\s* runs accepts exactly what it accepted."""
    from fupin.parsing import _QUANTITY_RE, NUMBER, UNIT

    old = re.compile(
        rf"^(?:约|大约|大概|差不多)?(?P<num>{NUMBER}|半)\s*(?P<approx>来|多|余)?\s*"
        rf"(?P<unit>{UNIT})?(?P<half>半)?(?:左右)?$"
    )
    rnd = random.Random(5)
    parts = ["约", "30", "1.5", "两百", "半", " ", "来", "多", "余", "斤", "公斤", "箱", "左右", "x", "\t"]
    for _ in range(20000):
        text = "".join(rnd.choices(parts, k=rnd.randint(0, 7)))
        a, b = old.match(text), _QUANTITY_RE.match(text)
        assert (a and a.groupdict()) == (b and b.groupdict()), text
