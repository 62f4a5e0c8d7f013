"""Text rules every stage shares: which language a text is in, where its sentences end, what a citation
marker looks like. One definition each, so the chunker, the composer, the renderer and the eval agree."""

from __future__ import annotations

import re

HAN = re.compile(r"[\u4e00-\u9fff]")
# "[1]", "[1][2]", "[1, 2]": the citation markers an answer carries.
MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
SINGLE_MARKER = re.compile(r"\[(\d+)\]")  # one "[n]", for turning each into a link
MARKERS_WITH_SPACE = re.compile(r"\s*(?:\[\d+(?:\s*,\s*\d+)*\])+")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
# "第十二条" / "**第5条**" opening an article; group 1 is its number (``chinese_number``)
ARTICLE_START = re.compile(r"^\s*(?:\*\*)?第([零〇一二两三四五六七八九十百千\d]+)条(?:\*\*)?")
# A guide's own source markers ("[来源：doc_0194#操作场景]") end a sentence and are never part of one.
SOURCE_MARKER = re.compile(r"\s*\[来源[:：][^\]]*\]")
# Chinese sentences end at 。；！？ (and their ASCII forms); English ones at ". " before a capital or digit.
SENTENCE_END = re.compile(r"(?<=[。；;！？!?])|(?<=\.)\s+(?=[A-Z(“\"（])|\n+")
# An answer's sentence and the [n] markers that follow its end mark, verbatim.
ANSWER_SENTENCE = re.compile(r"[^\n]+?(?:[。；;！？!?]|\.(?=\s+[A-Z(“\"（])|$)(?:\s*\[\d+(?:\s*,\s*\d+)*\])*",
                             re.MULTILINE)
MIN_SENTENCE = 8


def article_label(article_no: int | None, lang: str = "zh") -> str:
    """第6条 / Art. 6 ('' without an article number): how every stage names an article."""
    if article_no is None:
        return ""
    return f"第{article_no}条" if lang == "zh" else f"Art. {article_no}"


def mostly_chinese(text: str) -> bool:
    """True when Han characters make up at least a quarter of the letters (a Chinese question may quote
    English names such as "ICP" or "WFOE")."""
    han = len(HAN.findall(text))
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    return bool(han) and han * 3 >= latin


def detect_language(text: str) -> str:
    """'zh' or 'en' (the two languages the assistant answers in)."""
    return "zh" if mostly_chinese(text) else "en"


def citation_numbers(text: str) -> list[int]:
    """Every number inside a citation marker, in order ("[1][2, 3]" -> [1, 2, 3])."""
    return [int(n) for group in MARKER.findall(text) for n in group.split(",")]


def strip_markers(text: str) -> str:
    return MARKERS_WITH_SPACE.sub("", text).strip()


def answer_sentences(text: str) -> list[str]:
    """The sentences of an answer's text, each with the [n] markers that end it ("… filed. [1][2]"), verbatim."""
    return [m.group(0).strip() for m in ANSWER_SENTENCE.finditer(text) if m.group(0).strip()]


# A transcriber's note in a corpus text, not the text itself: "（源文件此处为表格图片 https://… ；以下为源文件表格中的
# 填表说明文字。）", "5. （源文件缺失）". It stays in the text and is never quoted as what a text says.
EDITORIAL = re.compile(r"^\s*(?:\d+\.\s*)?[（(]\s*(?:源文件|原文缺失|编者注|editor'?s note|source file)", re.IGNORECASE)


# A list bullet or quote mark at the start of a line ("- ", "* ", "> "), not the "**" that opens a bold label
# ("**域名过期处理**：" quoted as "域名过期处理**：" left an unbalanced marker that bolded the rest of the answer).
LIST_MARK = re.compile(r"^(?:[-*+]\s+|>\s*)+")
MARKUP = re.compile(r"[*_`]")


def sentences(text: str, *, min_chars: int = MIN_SENTENCE, verbatim: bool = True) -> list[str]:
    """The sentences (or list items) of ``text`` without Markdown heading lines, list bullets, images, table
    rules and the transcriber's notes (``EDITORIAL``). With ``verbatim`` each is a substring of ``text`` (so it
    can be quoted) and shorter pieces than ``min_chars`` are dropped (they are labels, not statements)."""
    out = []
    for line in SOURCE_MARKER.sub("\n", text).splitlines():
        if HEADING.match(line) or line.lstrip().startswith(("![", "|---", "```")) or EDITORIAL.match(line):
            continue
        for piece in split_sentences(line):
            piece = LIST_MARK.sub("", piece.strip()).strip()
            if len(MARKUP.sub("", piece)) >= min_chars and (not verbatim or piece in text):  # "**解决方案**：" is a label
                out.append(piece)
    return out


# An address inside a sentence: its "?", "!" or "." ends no sentence ("请到 [工信部备案系统](http://…;jsessionid=…!-964799922)
# 找回备案密码。" was quoted from "-964799922)" on).
ADDRESS = re.compile(r"\\?\[[^\]]*\\?\]\([^)]*\)|https?://[^\s)）\]]+")


# An HTML tag left in a guide page ("<p>根据…</p>", "您好！</br>为了…"): it is no part of a sentence.
HTML_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")


def split_sentences(line: str) -> list[str]:
    """``line`` cut at ``SENTENCE_END`` and at HTML tags, except inside a link or an address."""
    inside = [m.span() for m in ADDRESS.finditer(line)]
    cuts = sorted([*((m.start(), m.end()) for m in SENTENCE_END.finditer(line)),
                   *((m.start(), m.end()) for m in HTML_TAG.finditer(line))])
    pieces, start = [], 0
    for cut_start, cut_end in cuts:
        if cut_start < start or any(a < cut_start < b for a, b in inside):
            continue
        pieces.append(line[start:cut_start])
        start = cut_end
    return [*pieces, line[start:]]


def statements(text: str) -> list[str]:
    """The sentences of ``text`` that are not questions or bare pointers: what can be quoted as an answer (a
    guide's list of "typical user queries" repeats the question that was asked, and "请参见 [网站命名要求](…)。"
    sends the reader elsewhere: neither answers)."""
    return [s for s in sentences(text) if not s.rstrip("*_ \"”").endswith(("?", "？")) and not QUESTION_LABEL.match(s)
            and not is_pointer(s) and not DATE_LINE.match(s)]


# A notice's date line ("二零一六年八月三十日", "2016年9月22日") states nothing.
DATE_LINE = re.compile(r"^[\d〇零一二三四五六七八九十]{2,4}年[\d〇零一二三四五六七八九十]{1,2}月[\d〇零一二三四五六七八九十]{1,3}日$")


# A line labelled as the question of a Q/A pair ("**Q**: 我们有一个新的app…怎么选呢"), question mark or not, or as the
# problem a section answers: the error message users paste and its key words ("**错误提示**：备案信息填写的主体负责人身份证
# 证件已经超过有效期限。" restates the problem; it led "身份证到期换了新证，需要去改信息吗？" instead of the 解决方案 under it).
QUESTION_LABEL = re.compile(r"^[*_\s]*(?:Q|问|错误提示|关键词)[*_\s]*[:：]")


# "请参考 [备案时长](https://…)。", "See [ICP Filing Overview](…).": a sentence that only names where the answer is;
# so is a link or address with a short label and nothing else ("备案流程：https://…", "[立刻进行备案 >>](https://…)").
POINTER_WORDS = re.compile(r"请参见|请参考|详见|参见|参考|查看|see\b|refer to", re.IGNORECASE)
LINK = re.compile(r"\\?\[([^\]]*)\\?\]\([^)]*\)")
BARE_URL = re.compile(r"https?://\S+")


def is_pointer(sentence: str) -> bool:
    if not LINK.search(sentence) and not BARE_URL.search(sentence):
        return False
    if POINTER_WORDS.search(sentence):
        return _words(POINTER_WORDS.sub("", BARE_URL.sub("", LINK.sub("", sentence)))) <= 12
    rest = BARE_URL.sub("", LINK.sub(r"\1", sentence)).strip(" *_")
    if rest.endswith((":", "：")) and not LINK.search(sentence):
        return True  # a label and an address: "各地区管局备案要求：https://…"
    return _words(rest) <= 8  # the link's label counts as content


def _words(text: str) -> int:
    return len(re.findall(r"[\u4e00-\u9fff]|[A-Za-z]+", text))


CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_UNITS = {"十": 10, "百": 100, "千": 1000}
CN_BIG_UNITS = {"万": 10_000, "亿": 100_000_000}


def chinese_number(text: str) -> int:
    """'二十九' -> 29, '一百零三' -> 103, '一千万' -> 10000000, '12' -> 12; ValueError on anything else."""
    if text.isdigit():
        return int(text)
    total, section, digit = 0, 0, 0
    for ch in text:
        if ch in CN_DIGITS:
            digit = CN_DIGITS[ch]
        elif ch in CN_UNITS:
            section += (digit or 1) * CN_UNITS[ch]
            digit = 0
        elif ch in CN_BIG_UNITS:
            total = (total + section + digit) * CN_BIG_UNITS[ch]
            section, digit = 0, 0
        else:
            raise ValueError(f"not a Chinese numeral: {text!r}")
    return total + section + digit
