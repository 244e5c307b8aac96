"""Chinese-aware text analysis shared by indexing, querying and highlighting.

Whoosh's stock tokenizers split on word characters and therefore treat a whole
run of Chinese characters as one "word".  We index every CJK run three ways:

* character unigrams   -> a single-character query such as "秤" matches;
* character bigrams    -> any partial word ("地磅", "车衡") matches;
* jieba search-mode words of three or more characters ("汽车衡", "绿色食品")
  -> whole words get an extra term (two-character words already are bigrams).

Non-CJK runs (Latin letters, digits) are lowercased words; letter/digit
boundaries are split too, so "ISO9001" yields "iso9001", "iso" and "9001".
All text is NFKC-normalised first (full-width "ＡＢＣ１２３" -> "abc123").

Whoosh pickles the analyzer into the index schema, therefore the tokenizer is a
module-level class (never a closure or lambda): ``search_index.analysis.
ChineseTokenizer`` must stay importable under this name.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import jieba
from whoosh.analysis import Token, Tokenizer

__all__ = [
    "ChineseTokenizer",
    "ChineseAnalyzer",
    "WeightedChineseTokenizer",
    "weighted_value",
    "STOPWORDS",
    "QueryAnalysis",
    "WordGroup",
    "analyze_query",
    "add_user_words",
    "clean_text",
    "has_control_chars",
    "ensure_jieba",
    "index_terms",
    "is_cjk",
    "normalize",
    "normalize_with_map",
]

# --------------------------------------------------------------------------
# Character classes and normalisation
# --------------------------------------------------------------------------

#: CJK unified ideographs (basic, extension A, compatibility, extensions B+).
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_CJK_CHAR_RE = re.compile(f"[{_CJK}]")
#: One run of CJK characters, or one run of other letters/digits.
_RUN_RE = re.compile(f"([{_CJK}]+)|([^\\W_{_CJK}]+)")
#: Splits a Latin/digit run at letter<->digit boundaries ("iso9001" -> iso, 9001).
_ALNUM_PART_RE = re.compile(r"[^\W\d_]+|\d+")
#: Control and format characters (C0/C1 controls, zero-width, bidi marks ...).
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


def is_cjk(ch: str) -> bool:
    """True when *ch* (one character) is a CJK ideograph."""
    return bool(_CJK_CHAR_RE.match(ch))


def clean_text(text: str) -> str:
    """NFKC-normalise *text* and replace control characters by spaces.

    Case is preserved (used for user-visible query cleaning)."""
    text = unicodedata.normalize("NFKC", text)
    return _CONTROL_RE.sub(" ", text)


def has_control_chars(text: str) -> bool:
    """True when *text* contains control/format characters (other than
    ordinary whitespace), which the query cleaning removes."""
    return bool(_CONTROL_RE.search(text.replace("\t", " ").replace("\n", " ").replace("\r", " ")))


def normalize(text: str) -> str:
    """Normalised form used for every indexed and queried term."""
    return clean_text(text).lower()


def normalize_with_map(text: str) -> tuple[str, list[int] | None]:
    """Normalise *text* and return ``(normalised, offsets)``.

    ``offsets[i]`` is the index in *text* of the character that produced
    normalised character ``i`` (plus a final sentinel ``len(text)``).
    ``offsets`` is ``None`` when the mapping is the identity, which is the
    common case (full-width punctuation maps one-to-one under NFKC)."""
    norm = normalize(text)
    if len(norm) == len(text):
        return norm, None
    # Rare: a character expanded or combined (e.g. "㎏" -> "kg"); map per char.
    parts: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        n = normalize(ch)
        parts.append(n)
        offsets.extend([i] * len(n))
    offsets.append(len(text))
    return "".join(parts), offsets


# --------------------------------------------------------------------------
# jieba set-up
# --------------------------------------------------------------------------

_jieba_lock = threading.Lock()
_jieba_ready = False
_user_words: set[str] = set()


def ensure_jieba() -> None:
    """Initialise jieba once per process, without its chatty logging."""
    global _jieba_ready
    if _jieba_ready:
        return
    with _jieba_lock:
        if not _jieba_ready:
            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            _jieba_ready = True


def add_user_words(words: Iterable[str]) -> None:
    """Teach jieba domain words (service keywords) so they stay whole.

    Only short pure-CJK words are added; each word is added once per process.
    A moderate frequency keeps them together without disturbing the
    segmentation of ordinary text much."""
    ensure_jieba()
    added = False
    with _jieba_lock:
        for word in words:
            word = normalize(word).strip()
            if not (2 <= len(word) <= 8) or word in _user_words:
                continue
            if not all(is_cjk(ch) for ch in word):
                continue
            _user_words.add(word)
            if not jieba.dt.FREQ.get(word):
                jieba.add_word(word, freq=2000)
                added = True
        if added:  # segmentation may change: forget cached run analyses
            _cjk_run_index_terms.cache_clear()


# --------------------------------------------------------------------------
# Index-side analysis
# --------------------------------------------------------------------------


def _latin_terms(word: str) -> Iterator[tuple[str, int, int]]:
    """Terms of a Latin/digit run, relative offsets: the run and its parts."""
    yield word, 0, len(word)
    parts = list(_ALNUM_PART_RE.finditer(word))
    if len(parts) > 1:
        for m in parts:
            yield m.group(), m.start(), m.end()


@lru_cache(maxsize=20000)
def _cjk_run_index_terms(run: str) -> tuple[tuple[str, int, int], ...]:
    """Index terms of one CJK run with offsets relative to the run.

    Cached: runs between punctuation ("在线提交申请", "营业执照复印件")
    recur across services, and jieba is the costly part of indexing.  The
    cache is cleared when jieba learns new user words."""
    n = len(run)
    out = [(ch, i, i + 1) for i, ch in enumerate(run)]
    out += [(run[i : i + 2], i, i + 2) for i in range(n - 1)]
    if n >= 3:
        # jieba search mode also returns the sub-words of long words; keep
        # those of 3+ characters (shorter ones are the n-grams above).
        pos = 0
        for word in jieba.cut_for_search(run, HMM=False):
            if len(word) >= 3:
                idx = run.find(word, max(0, pos - len(word)))
                if idx < 0:
                    idx = run.find(word)
                out.append((word, idx, idx + len(word)))
                pos = idx + len(word)
    return tuple(out)


def index_terms(text: str) -> Iterator[tuple[str, int, int]]:
    """Yield ``(term, startchar, endchar)`` for *text* as indexed.

    Offsets refer to the normalised text (``normalize(text)``)."""
    ensure_jieba()
    norm = normalize(text)
    for m in _RUN_RE.finditer(norm):
        start = m.start()
        if m.group(1):  # CJK run
            for term, s, e in _cjk_run_index_terms(m.group()):
                yield term, start + s, start + e
        else:
            for term, s, e in _latin_terms(m.group()):
                yield term, start + s, start + e


#: Separators of the weighted sections of a WeightedChineseTokenizer value.
SECTION_SEP = "\x1e"
WEIGHT_SEP = "\x1f"


def weighted_value(sections: Iterable[tuple[float, str]]) -> str:
    """Encode ``(weight, text)`` sections as one field value for
    :class:`WeightedChineseTokenizer` (weights become token boosts)."""
    return SECTION_SEP.join(
        f"{weight:g}{WEIGHT_SEP}{text.replace(SECTION_SEP, ' ').replace(WEIGHT_SEP, ' ')}"
        for weight, text in sections
        if text
    )


def _sections(value: str) -> Iterator[tuple[float, str]]:
    """The ``(weight, text)`` sections of a :func:`weighted_value`; a section
    without a (valid) weight is plain text of weight 1."""
    for section in value.split(SECTION_SEP):
        weight_text, sep, text = section.partition(WEIGHT_SEP)
        try:
            weight = float(weight_text) if sep else 1.0
        except ValueError:
            weight, sep = 1.0, ""
        yield weight, (text if sep else section)


class ChineseTokenizer(Tokenizer):
    """Whoosh tokenizer: CJK unigrams + bigrams + jieba words, Latin words.

    Used directly as the analyzer of the text fields (it already lowercases
    and normalises, so no filter chain is needed).

    ``weighted`` (a class attribute, so that the schemas pickled into existing
    indexes stay as they are; see :class:`WeightedChineseTokenizer`) reads
    the value as weighted sections instead: each token's boost is its
    section's weight, positions run on across sections and character offsets
    are relative to the section.  A weighted value is always tokenized
    (``tokenize=False`` would make one term of the encoded sections)."""

    weighted = False

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize and not self.weighted:
            t.original = t.text = normalize(value)
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar = start_char
                t.endchar = start_char + len(value)
            yield t
            return
        pos = start_pos
        for weight, text in _sections(value) if self.weighted else ((1.0, value),):
            for term, s, e in index_terms(text):
                t.text = term
                t.boost = weight
                t.stopped = False
                if keeporiginal:
                    t.original = term
                if positions:
                    t.pos = pos
                if chars:
                    t.startchar = start_char + s
                    t.endchar = start_char + e
                pos += 1
                yield t


class WeightedChineseTokenizer(ChineseTokenizer):
    """:class:`ChineseTokenizer` for a value made of weighted sections (see
    :func:`weighted_value`): Whoosh's Frequency format sums the boosts into
    the posting weight, so one posting list carries keywords, summary and
    body with their relative importance (BM25F-style), which is much cheaper
    to read and score than one list per field.

    Only the ``weighted`` switch differs; the class exists under this name
    because the catalog's existing indexes pickled it into their schema."""

    weighted = True


def ChineseAnalyzer() -> ChineseTokenizer:
    """Factory kept for readability in the schema (returns a tokenizer,
    which is a complete Whoosh analyzer on its own)."""
    return ChineseTokenizer()


# --------------------------------------------------------------------------
# Query-side analysis
# --------------------------------------------------------------------------

#: Function words and request phrasing that say nothing about the service.
#: Dropped from queries (not from the index) so that "我们厂的地磅需要年检"
#: searches for 厂 / 地磅 / 年检.
STOPWORDS: frozenset[str] = frozenset(
    """
    我 我们 我们的 我的 咱 咱们 俺 你 你们 您 您好 你好 他 她 它 他们 她们 它们 自己 本人
    的 地 得 了 着 过 吗 嘛 呢 吧 啊 呀 哦 哈 么 嗯 呗 啦 哪 之 其
    是 在 和 跟 与 及 以及 或 或者 还是 并 并且 而 而且 就 都 也 还 又 再 才 只 只是
    给 把 被 对 向 从 到 于 为 为了 因为 所以 如果 但是 但 由于 关于 对于 按照 根据
    要 想 想要 需要 需 需不需要 要不要 打算 准备 希望 应该 应当 必须 得到
    怎么 怎样 怎么样 怎么办 如何 咋 咋办 什么 啥 哪 哪里 哪儿 哪个 哪些 哪家 多少 几 多久 为什么
    请问 请 问 问问 问一下 咨询一下 一下 下 办理 办 去办 能 能否 能不能 可以 可不可以 可否 是否
    有 没有 有没有 有无 这 那 这个 那个 这些 那些 这样 那样 一个 一些 一家 一下子 一种 个 些 该 此 每 各
    去 来 做 弄 搞 帮 帮忙 帮我 麻烦 谢谢 感谢 一般 大概 现在 目前 已经 马上 哪里有
    """.split()
)

#: Colloquial words -> the official terms used in service guides.  Searched
#: in addition to the typed word, with SYNONYM_WEIGHT.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "地磅": ("汽车衡",),
    "过磅": ("汽车衡",),
    "磅秤": ("衡器",),
    "年检": ("检定",),
    "年审": ("检定",),
    "强检": ("强制检定",),
    "送检": ("委托检验",),
    "质检": ("检验",),
    "高企": ("高新技术企业",),
    "企标": ("企业标准",),
    "团标": ("团体标准",),
    "国标": ("国家标准",),
    "绿标": ("绿色食品",),
    "老字号": ("中华老字号",),
}
SYNONYM_WEIGHT = 0.5
#: Query-term weights: a whole word of 3+ characters (matches only where the
#: index also segmented it as a word) and a bigram straddling two sub-words.
WHOLE_WORD_WEIGHT = 1.5
STRADDLING_WEIGHT = 0.5

#: Longest query (in characters) accepted before truncation.
MAX_QUERY_CHARS = 100
#: Caps that keep a long question from expanding into hundreds of terms.
MAX_CJK_TERMS = 24
MAX_LATIN_TOKENS = 6


@dataclass
class WordGroup:
    """The terms standing for one word of the query.

    A document "has" the word when it contains any of the terms (or, for a
    Latin chunk, matches its pinyin).  *strong* groups (words of two or more
    characters, Latin chunks, numbers) count for the minimum-should-match
    rule; single characters are scored but do not count."""

    terms: list[str]
    strong: bool
    #: Index into ``QueryAnalysis.latin`` for a Latin chunk (pinyin matches
    #: satisfy the group too), else None.
    latin_chunk: int | None = None
    #: The word as it stands in the query (normalised), e.g. for "search with fewer words".
    word: str = ""


@dataclass
class QueryAnalysis:
    """The searchable pieces of a user query (all normalised)."""

    #: CJK/Latin text-field terms -> weight (1.0 = a real word of the query).
    terms: dict[str, float] = field(default_factory=dict)
    #: Content words (jieba, stopwords removed), used for exact-keyword bonuses.
    words: list[str] = field(default_factory=list)
    #: One group of terms per content word (matching rule, "all words in the
    #: name" bonus).
    groups: list[WordGroup] = field(default_factory=list)
    #: Latin/pinyin chunks as typed (letters only, in order).
    latin: list[str] = field(default_factory=list)
    #: Strings to <mark> when highlighting (what the user typed, not synonyms).
    highlight: set[str] = field(default_factory=set)
    #: The normalised query with whitespace collapsed (for exact-name match).
    full: str = ""


def _add(qa: QueryAnalysis, term: str, weight: float, *, synonym: bool = False) -> None:
    """Add *term* with *weight* (keeping the higher weight if repeated)."""
    if weight > qa.terms.get(term, 0.0):
        qa.terms[term] = weight
    if not synonym:
        qa.highlight.add(term)


def _cjk_run_terms(run: str, qa: QueryAnalysis) -> None:
    """Analyse one CJK run of the query into weighted terms."""
    words = [w for w in jieba.cut(run, HMM=True) if w.strip()]
    content = [w for w in words if w not in STOPWORDS]
    if not content:  # the run was nothing but stopwords: keep it as typed
        content = words
    # Split into sub-runs of consecutive content words: bigrams never bridge
    # a removed stopword ("地磅需要年检" -> 地磅 | 年检).
    subruns: list[list[str]] = []
    current: list[str] = []
    keep_all = content is words
    for w in words:
        if keep_all or w not in STOPWORDS:
            current.append(w)
        elif current:
            subruns.append(current)
            current = []
    if current:
        subruns.append(current)

    for sub in subruns:
        if len(sub) == 1 and len(sub[0]) == 1:
            # A lone character ("秤", or "厂" in "我们厂的…") is a real query.
            ch = sub[0]
            _add(qa, ch, 1.0)
            qa.words.append(ch)
            qa.groups.append(WordGroup([ch], strong=False, word=ch))
            continue
        for idx, w in enumerate(sub):
            if len(w) >= 2:
                group: list[str] = []
                # Bigrams inside a long word that straddle its own sub-words
                # ("测报" in 检测|报告) are weaker evidence than real sub-words.
                parts = [p for p in jieba.cut_for_search(w, HMM=False) if len(p) >= 2] if len(w) >= 3 else []
                pairs = {p for p in parts if len(p) == 2}
                for i in range(len(w) - 1):
                    bg = w[i : i + 2]
                    _add(qa, bg, 1.0 if not pairs or bg in pairs else STRADDLING_WEIGHT)
                    group.append(bg)
                if len(w) >= 3:
                    _add(qa, w, WHOLE_WORD_WEIGHT)
                    group.append(w)
                    for part in parts:
                        if len(part) >= 3:
                            _add(qa, part, 1.0)
                for syn in SYNONYMS.get(w, ()):
                    # Everyday words for official ones, at a lower weight;
                    # searched, but not highlighted.
                    for i in range(len(syn) - 1):
                        _add(qa, syn[i : i + 2], SYNONYM_WEIGHT, synonym=True)
                        group.append(syn[i : i + 2])
                    if len(syn) >= 3:
                        _add(qa, syn, SYNONYM_WEIGHT, synonym=True)
                qa.words.append(w)
                qa.groups.append(WordGroup(group, strong=True, word=w))
            else:
                # A single character between words: it may be part of an
                # unknown word, so join it to its neighbours (weaker terms).
                # Not searched alone: one common character ("后", "做") would
                # only add noise and the longest postings of the index.
                group = []
                if idx > 0:
                    bg = sub[idx - 1][-1] + w
                    _add(qa, bg, 0.6)
                    group.append(bg)
                if idx + 1 < len(sub):
                    bg = w + sub[idx + 1][0]
                    _add(qa, bg, 0.6)
                    group.append(bg)
                qa.words.append(w)
                qa.groups.append(WordGroup(group, strong=False, word=w))


def analyze_query(text: str) -> QueryAnalysis:
    """Analyse an already cleaned/truncated query string."""
    ensure_jieba()
    qa = QueryAnalysis()
    norm = normalize(text)
    qa.full = " ".join(norm.split())
    latin_buf: list[str] = []  # consecutive Latin words form one chunk
    latin_terms: list[str] = []

    def flush_latin() -> None:
        if latin_buf:
            qa.latin.append(" ".join(latin_buf))
            qa.groups.append(WordGroup(list(latin_terms), strong=True, latin_chunk=len(qa.latin) - 1,
                                       word=qa.latin[-1]))
            latin_buf.clear()
            latin_terms.clear()

    for m in _RUN_RE.finditer(norm):
        run = m.group()
        if m.group(1):
            flush_latin()
            _cjk_run_terms(run, qa)
            continue
        if len(qa.latin) + len(latin_buf) >= MAX_LATIN_TOKENS:
            continue
        # Latin/digit word: searchable as a word in every text field.
        terms = []
        for term, _s, _e in _latin_terms(run):
            # One letter would match too much; keep digits though.
            if len(term) >= 2 or term.isdigit():
                _add(qa, term, 1.0 if term == run else 0.5)
                terms.append(term)
        qa.words.append(run)
        if run.isascii() and run.isalpha():
            latin_buf.append(run)
            latin_terms.extend(terms)
        else:  # "iso9001", "12315": a word of its own
            flush_latin()
            if terms:
                qa.groups.append(WordGroup(terms, strong=True, word=run))
    flush_latin()
    # Keep the query bounded: the first terms win (word order of the query).
    if len(qa.terms) > MAX_CJK_TERMS:
        ranked = sorted(qa.terms.items(), key=lambda kv: -kv[1])[:MAX_CJK_TERMS]
        qa.terms = dict(ranked)
    return qa
