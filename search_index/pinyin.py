"""Pinyin support: index terms for service names and parsing of Latin queries.

Three pinyin fields are indexed for each service (see ``schema.py``):

``py``
    toneless syllables of the name's Chinese characters and every pair of
    adjacent syllables joined ("shang", "shangbiao", "biaozhu" ...).  A typed
    syllable sequence becomes an ``And`` of its pairs, so "dibang",
    "di bang" and "biaozhuce" find names containing those characters in order
    (the same trick the Chinese bigrams use).
``py_initials``
    n-grams (2..6 letters) of the name's initials ("sbzc" inside
    "sbzcblhfw" for 商标注册便利化服务).
``py_exact``
    whole units: the name's full pinyin and initials, and the pinyin and
    initials of each jieba word of the name and of each keyword ("dibang",
    "db", "shangbiaozhuce", "sbzc", "qiangzhijianding", "qzjd").  Exact hits
    here carry the largest pinyin boost; prefixes of these terms serve
    partial typing ("shangbiaozhu").
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import jieba
from pypinyin import lazy_pinyin

from .analysis import _RUN_RE, ensure_jieba, normalize

__all__ = [
    "SYLLABLES",
    "INITIALS_NGRAM_MAX",
    "char_syllables",
    "pinyin_fields",
    "segment_pinyin",
    "unit_terms",
]

#: Every toneless Mandarin syllable as produced by pypinyin (ü written as v).
SYLLABLES: frozenset[str] = frozenset(
    """
    a ai an ang ao ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu ca cai
    can cang cao ce cen ceng cha chai chan chang chao che chen cheng chi chong chou chu chua
    chuai chuan chuang chui chun chuo ci cong cou cu cuan cui cun cuo da dai dan dang dao de
    den deng di dian diao die ding diu dong dou du duan dui dun duo e ei en eng er fa fan
    fang fei fen feng fiao fo fou fu ga gai gan gang gao ge gei gen geng gong gou gu gua guai
    guan guang gui gun guo ha hai han hang hao he hei hen heng hong hou hu hua huai huan
    huang hui hun huo ji jia jian jiang jiao jie jin jing jiong jiu ju juan jue jun ka kai kan
    kang kao ke ken keng kong kou ku kua kuai kuan kuang kui kun kuo la lai lan lang lao le
    lei leng li lia lian liang liao lie lin ling liu lo long lou lu luan lun luo lv lve ma
    mai man mang mao me mei men meng mi mian miao mie min ming miu mo mou mu na nai nan nang
    nao ne nei nen neng ni nian niang niao nie nin ning niu nong nou nu nuan nun nuo nv nve o
    ou pa pai pan pang pao pei pen peng pi pian piao pie pin ping po pou pu qi qia qian qiang
    qiao qie qin qing qiong qiu qu quan que qun ran rang rao re ren reng ri rong rou ru rua
    ruan rui run ruo sa sai san sang sao se sen seng sha shai shan shang shao she shen sheng
    shi shou shu shua shuai shuan shuang shui shun shuo si song sou su suan sui sun suo ta
    tai tan tang tao te teng ti tian tiao tie ting tong tou tu tuan tui tun tuo wa wai wan
    wang wei wen weng wo wu xi xia xian xiang xiao xie xin xing xiong xiu xu xuan xue xun ya
    yan yang yao ye yi yin ying yo yong you yu yuan yue yun za zai zan zang zao ze zei zen
    zeng zha zhai zhan zhang zhao zhe zhen zheng zhi zhong zhou zhu zhua zhuai zhuan zhuang
    zhui zhun zhuo zi zong zou zu zuan zui zun zuo
    """.split()
)
#: Proper prefixes of syllables (a query may end in the middle of one).
_SYLLABLE_PREFIXES: frozenset[str] = frozenset(
    s[:i] for s in SYLLABLES for i in range(1, len(s))
)
_MAX_SYLLABLE = max(len(s) for s in SYLLABLES)
#: Longest initials n-gram indexed in ``py_initials``.
INITIALS_NGRAM_MAX = 6
#: How many alternative segmentations of one Latin chunk are searched.
MAX_SEGMENTATIONS = 3


# --------------------------------------------------------------------------
# Index side
# --------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def char_syllables(text: str) -> tuple[tuple[int, str], ...]:
    """``(index, syllable)`` for every Chinese character of normalised *text*.

    Readings come from pypinyin per CJK run, so polyphones follow context
    (重庆 -> chong qing).  Characters without a reading are skipped.  Cached:
    names are converted again for every highlighted hit."""
    out: list[tuple[int, str]] = []
    for m in _RUN_RE.finditer(text):
        if not m.group(1):
            continue
        run = m.group()
        sylls = lazy_pinyin(run)
        if len(sylls) != len(run):  # defensive: fall back to one char at a time
            sylls = [(lazy_pinyin(ch) or [""])[0] for ch in run]
        for i, syl in enumerate(sylls):
            if syl.isascii() and syl.isalpha():
                out.append((m.start() + i, syl.lower()))
    return tuple(out)


@lru_cache(maxsize=65536)
def unit_terms(text: str) -> tuple[str, ...]:
    """Full pinyin and initials of *text* (a word or keyword), if Chinese.

    Cached: the same words and keywords recur across many services."""
    sylls = [s for _i, s in char_syllables(normalize(text))]
    if not sylls:
        return ()
    full = "".join(sylls)
    initials = "".join(s[0] for s in sylls)
    return (full, initials) if len(sylls) > 1 else (full,)


def pinyin_fields(name: str, keywords: Iterable[str]) -> dict[str, str]:
    """Space-separated term lists for the three pinyin fields of a service."""
    ensure_jieba()
    norm = normalize(name)
    sylls = [s for _i, s in char_syllables(norm)]
    initials = "".join(s[0] for s in sylls)

    py_terms: list[str] = list(sylls)
    py_terms += [sylls[i] + sylls[i + 1] for i in range(len(sylls) - 1)]

    ini_terms: list[str] = []
    for n in range(2, INITIALS_NGRAM_MAX + 1):
        ini_terms += [initials[i : i + n] for i in range(len(initials) - n + 1)]

    exact: list[str] = []
    if sylls:
        exact += ["".join(sylls), initials]
    for m in _RUN_RE.finditer(norm):
        if m.group(1) and len(m.group()) >= 2:
            for word in jieba.cut_for_search(m.group(), HMM=False):
                if len(word) >= 2:
                    exact += unit_terms(word)
    for kw in keywords:
        exact += unit_terms(kw)
    # Deduplicate while keeping order (Frequency format would count repeats).
    return {
        "py": " ".join(dict.fromkeys(py_terms)),
        "py_initials": " ".join(dict.fromkeys(ini_terms)),
        "py_exact": " ".join(dict.fromkeys(t for t in exact if t)),
    }


# --------------------------------------------------------------------------
# Query side
# --------------------------------------------------------------------------


@lru_cache(maxsize=2048)
def _segment(letters: str) -> tuple[tuple[tuple[str, ...], str], ...]:
    """All minimal segmentations of *letters* into syllables.

    Returns up to MAX_SEGMENTATIONS tuples ``(syllables, partial)`` where
    *partial* is a trailing incomplete syllable ("" if none)."""
    n = len(letters)
    # best[i] = (count, [segmentations of letters[i:]]) ; computed right-to-left
    best: list[tuple[int, list[tuple[tuple[str, ...], str]]] | None] = [None] * (n + 1)
    best[n] = (0, [((), "")])
    for i in range(n - 1, -1, -1):
        cands: list[tuple[int, list[tuple[tuple[str, ...], str]]]] = []
        # A trailing partial syllable is only allowed at the very end.
        tail = letters[i:]
        if tail in _SYLLABLE_PREFIXES and tail not in SYLLABLES:
            cands.append((1, [((), tail)]))
        for j in range(i + 1, min(n, i + _MAX_SYLLABLE) + 1):
            piece = letters[i:j]
            rest = best[j]
            if piece in SYLLABLES and rest is not None:
                cands.append(
                    (rest[0] + 1, [((piece,) + segs, part) for segs, part in rest[1]])
                )
        if cands:
            low = min(c for c, _ in cands)
            segs = [s for c, group in cands if c == low for s in group]
            # Prefer segmentations without a dangling partial syllable.
            segs.sort(key=lambda sp: (sp[1] != "",))
            best[i] = (low, segs[:MAX_SEGMENTATIONS])
    return tuple(best[0][1]) if best[0] else ()


def segment_pinyin(chunk: str) -> list[tuple[list[str], str]]:
    """Segment a typed Latin chunk ("di bang", "shangbiaozhu") into syllables.

    Spaces typed by the user are honoured as syllable boundaries.  Returns
    ``[]`` when the chunk is not pinyin (e.g. "db", "iso")."""
    chunk = chunk.lower().replace("ü", "v").replace("lue", "lve").replace("nue", "nve")
    parts = chunk.split()
    if not parts or not all(p.isascii() and p.isalpha() for p in parts):
        return []
    combos: list[tuple[list[str], str]] = [([], "")]
    for k, part in enumerate(parts):
        segs = _segment(part)
        if not segs:
            return []
        new: list[tuple[list[str], str]] = []
        for prev, prev_partial in combos:
            if prev_partial:  # a partial syllable can only end the query
                continue
            for sylls, partial in segs:
                if partial and k != len(parts) - 1:
                    continue
                new.append((prev + list(sylls), partial))
        combos = new[:MAX_SEGMENTATIONS]
        if not combos:
            return []
    return combos
