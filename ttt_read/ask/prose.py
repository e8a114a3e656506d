"""Answering from a manual's prose: its sentences, ranked for the question, or "not found".

A manual (a PDF, an info manual, a man page, a text file) is cut into sentences; a heading is
never one (it only says what the sentences under it are about), and a paragraph's term line
(`‘--stdout’`, an option alone on its line) is the context of the sentences below it. Each
sentence of the question's best few is scored by a linear function of features that carry
over from one manual to another (`FEATURES`: how much of the question, weighted by rarity, the
sentence holds in any form or synonym, and its section heading, term line and the sentence
before it; whether it holds the kind of thing the question asks for: a number, a name written
as code, a quoted string), fitted on questions worded by hand about the training split's
manuals (`train.prose_ranker`). The answer is the best sentence, cited where it starts; "not
found" when the best one holds too little of the question (`prose_weights`).
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from dataclasses import dataclass

from ttt_read.ask import synonyms as syn
from ttt_read.ask.found import Answer, Source
from ttt_read.ask.intent import STOP_WORDS
from ttt_read.ask.stems import WORDS, stem, terms
from ttt_read.notepad.lexicon import DOT_LEADER, FUNCTION_WORDS, QUESTION_WORDS, word_terms
from ttt_read.text import filekinds
from ttt_read.text.sources import PAGE_MARK

MAX_TERM_LINES, MAX_TERM_CHARS = 6, 60  # an entry's term: at most this many lines, each this short
MIN_WORDS = 3  # shorter "sentences" are index entries and stray numbers
MAX_CHARS = 400  # a longer "sentence" (a table, a code block) is answered line by line
CANDIDATES = 40  # sentences the fitted score ranks, best first by BM25
K1, B = 1.2, 0.75
NEAR_CREDIT = 0.7  # another form sharing the first five letters ("configur" and `config`)
SYNONYM_CREDIT = 0.4

_HEADING = re.compile(
    r"^\s*(?:(?:\d+(?:\.\d+)*\.?|[A-Z]\.(?:\d+\.?)*|Appendix [A-Z]\.?|Chapter \d+\.?)\s+\S.{0,80}"
    r"|[A-Z][A-Z0-9 ,/&()-]{2,60})$"
)
_NUMBERED = re.compile(r"^\s*\d+(?:\.\d+)*\.?\s+[A-Z][^.!?]{0,70}[a-z][^.!?]{0,10}$")  # "2.4. The glob files"
# an info manual's menus, index entries and node headers:
# "* Menu::", "(line 12) * --debug: Options.", "File: sed.info,  Node: ..."
_NAVIGATION = re.compile(r"^(?:\(line\s+\d+\)|\*\s[^:]*::?|File:\s.*\bNode:)")
_TITLE = re.compile(r"^[A-Z][\w'-]*(?: [\w'-]+){0,4}$")  # "Tides", "Directory layout"
_UNDERLINE = re.compile(r"^\s*([=*~^-])\1{2,}\s*$")
_SENTENCE_END = re.compile(
    r"(?<!\be\.g)(?<!\bi\.e)(?<!\betc)(?<!\bvs)(?<!\bcf)(?<!\b[A-Za-z])[.!?]['\")\u2019\u201d]*\s+(?=\S)"
)
_CODE_TOKEN = re.compile(
    r"(?<![\w.-])(?:--?[A-Za-z][\w-]*|[\w.-]*[A-Za-z][\w-]*(?:[._/:][\w*-]+)+|[a-z]+(?:[A-Z_][a-z0-9]+)+|"
    r"[A-Z][A-Z0-9]*_[A-Z0-9_]+|<[\w:-]+>|\w+\(\))"
)
_NUMBER = re.compile(r"(?<![\w.])\d[\d,.]*(?![\w])")
_QUOTED = re.compile(r"[\"\u201c\u2018'`][^\"\u201d\u2019'`\n]{1,60}[\"\u201d\u2019'`]")
_NUMERIC_QUESTION = re.compile(
    r"\bhow (?:many|much|long|large|big|often|high|low)\b|\b(?:number|size|length|maximum|minimum|highest|lowest"
    r"|largest|smallest|limit|default|value|version|weight|priority|bytes?|seconds?|percent)\b",
    re.I,
)
_NAME_QUESTION = re.compile(
    r"^\W*(?:which|what)\s+(?:\w+\s+){0,3}?(?:element|attribute|option|flag|variable|file|directory|folder|command"
    r"|tool|program|function|name|field|key|keyword|type|string|pattern|prefix|suffix|extension|signal|setting"
    r"|value|header|format|placeholder|path|library|package)s?\b",
    re.I,
)
_STRING_QUESTION = re.compile(r"\b(?:string|text|word|marker|placeholder|prefix|magic|begin|start)s?\b", re.I)

FEATURES = (
    "bm25",  # over the candidates' best
    "coverage",  # the question's weighted words the sentence holds, exactly
    "soft",  # ... as another form or a synonym
    "context",  # ... that only its heading, term line or previous sentence holds
    "heading",  # ... in its section's heading
    "first",  # 1 / (1 + rank by BM25)
    "number",  # a numeric question, and the sentence says a number the question does not
    "name",  # a question for a name, and the sentence writes one as code the question does not
    "string",  # a question for a string, and the sentence quotes one
    "new",  # share of the sentence's words the question does not say
    "length",  # log of its words, over 4
    "lead",  # the first sentence of its paragraph
    "pairs",  # share of the question's neighbouring words that are near each other in the sentence
    "passage",  # 1 / (1 + rank) of the notepad's passage for the question that holds the sentence
    "focus",  # the sentence holds that passage's best-matching line
    "opens",  # it opens with a word the question says: an entry for it (`PATH A colon-separated list ...`)
)
NEAR_WORDS = 3  # "near each other": at most this many words apart


@dataclass(frozen=True)
class Sentence:
    file: int  # index into the notepad's files
    line: int  # 1-based, where it starts
    col: int
    last: int  # 1-based, its last line
    text: str  # whitespace collapsed
    context: str  # its paragraph's term line, or the sentence before it
    heading: str
    lead: bool


def sentences_of(lines: list[str], file: int = 0) -> list[Sentence]:
    """The sentences of a manual's text; headings, page marks and a PDF's running heads are not
    sentences."""
    lines = _without_running_heads(lines)
    out: list[Sentence] = []
    heading = ""
    i, n = 0, len(lines)
    while i < n:
        if not lines[i].strip():
            i += 1
            continue
        j = i
        while j < n and lines[j].strip():
            j += 1
        if j - i <= 2 and _is_heading(lines[i:j]):
            heading = lines[i].strip()
            i = j
            continue
        # a PDF's text has no blank lines: its numbered headings and entries split the run
        cuts = [i] + [k for k in range(i + 1, j) if _run_heading(lines, k) or _entry_head(lines, k)] + [j]
        for a, b in zip(cuts, cuts[1:]):
            if _run_heading(lines, a):
                heading = lines[a].strip()
                a += 1
            if b > a:
                out.extend(_paragraph(lines[a:b], a, file, heading))
        i = j
    return out


def _without_running_heads(lines: list[str]) -> list[str]:
    """The lines with page marks, contents and index entries (their dot leaders), and a PDF's
    running heads and feet (the same line, but for its numbers, next to three or more page
    marks), blanked."""
    lines = ["" if DOT_LEADER.search(line) else line for line in lines]
    marks = [k for k, line in enumerate(lines) if PAGE_MARK.match(line)]
    if not marks:
        return lines
    near = [k + d for k in marks for d in (-1, 1) if 0 <= k + d < len(lines)]
    shape = lambda k: re.sub(r"\d+|[ivxlc]+$", "#", lines[k].strip())  # noqa: E731
    counts = Counter(shape(k) for k in near)
    out = list(lines)
    for k in marks:
        out[k] = ""
    for k in near:
        if counts[shape(k)] >= 3 or shape(k) == "#":
            out[k] = ""
    return out


def _run_heading(lines: list[str], k: int) -> bool:
    """A heading inside a run of lines: numbered (`2.4. The glob files`), or a few capitalised
    words alone between the end of a sentence and the start of the next."""
    line = lines[k].strip()
    if _NUMBERED.match(line) and not line.endswith("."):
        return True
    after = lines[k + 1].lstrip() if k + 1 < len(lines) else ""
    before = lines[k - 1].rstrip() if k else ""
    return (
        bool(_TITLE.match(line))
        and after[:1].isupper()
        and not after.startswith(line.split()[0])
        and (not before or before[-1] in ".:!?")
    )


def _entry_head(lines: list[str], k: int) -> bool:
    """A name alone on its line above its synopsis (`export` / `export [-fn] [name]`), after
    the end of a sentence: a PDF's reference entry."""
    name = lines[k].strip()
    if not name or len(name.split()) > 3 or len(name) > 30 or name[-1] in ".,;:" or k + 1 >= len(lines):
        return False
    after, before = lines[k + 1].strip(), lines[k - 1].rstrip() if k else ""
    return after.startswith(name.split()[0]) and after != name and (not before or before[-1] in ".:!?")


def _is_heading(block: list[str]) -> bool:
    first = block[0].strip()
    if len(block) == 2:
        return bool(_UNDERLINE.match(block[1])) and len(first) <= 80
    return bool(_HEADING.match(first)) and not first.endswith((".", ",", ";")) and len(first.split()) <= 12


def _paragraph(block: list[str], start: int, file: int, heading: str) -> list[Sentence]:
    """A paragraph's sentences. Short lines above its indented body are an entry's term
    (`‘-n’` `‘--quiet’`, an option or command alone on its line): the first sentence below
    carries them, as the answer a question about the entry wants."""
    indent = [len(x) - len(x.lstrip()) for x in block]
    body = next((k for k in range(1, min(len(block), MAX_TERM_LINES + 1)) if indent[k] > indent[0]), 0)
    if any(len(x.strip()) > MAX_TERM_CHARS for x in block[:body]):
        body = 0
    if not body and _entry_head(block, 0):
        body = 2  # the name and its synopsis
    term = " ".join(x.strip() for x in block[:body])
    text, offsets = "", []  # the joined body, and where each line starts in it
    for k in range(body, len(block)):
        offsets.append((len(text), start + k + 1, indent[k]))
        text += block[k].strip() + " "
    pieces, at = [], 0
    for m in _SENTENCE_END.finditer(text):
        pieces.append((at, m.start() + 1))
        at = m.end()
    if at < len(text.rstrip()):
        pieces.append((at, len(text.rstrip())))
    out: list[Sentence] = []
    previous = term
    for n, (a, b) in enumerate(pieces):
        sentence = text[a:b].strip()
        if len(sentence.split()) < MIN_WORDS or _NAVIGATION.match(sentence):
            continue
        first = max(k for k, (o, _, _) in enumerate(offsets) if o <= a)
        last = max(k for k, (o, _, _) in enumerate(offsets) if o < b)
        if len(sentence) > MAX_CHARS:  # a table or code: its lines
            for k in range(first, last + 1):
                line = block[offsets[k][1] - start - 1].strip()
                if line and not _NAVIGATION.match(line):
                    out.append(
                        Sentence(file, offsets[k][1], offsets[k][2] + 1, offsets[k][1], line, term, heading, False)
                    )
            continue
        line, col = offsets[first][1], offsets[first][2] + 1 + (a - offsets[first][0])
        if n == 0 and term:
            sentence, line, col = f"{term} {sentence}", start + 1, indent[0] + 1
        out.append(Sentence(file, line, col, offsets[last][1], sentence, previous, heading, n == 0))
        previous = sentence
    if term and not pieces:
        out.append(Sentence(file, start + 1, indent[0] + 1, start + body, term, "", heading, True))
    return out


class SentenceIndex:
    """The prose files' sentences with their stems, and BM25 statistics over them."""

    def __init__(self, notepad):
        self.notepad = notepad
        self.sentences: list[Sentence] = []
        for fi, f in enumerate(notepad.files):
            if f.kind == "pdf" or filekinds.is_prose(f.path):
                self.sentences += sentences_of(f.line_list(), fi)
        self.order = [[stem(t) for w in WORDS.findall(s.text) for t in word_terms(w)] for s in self.sentences]
        self.words = [Counter(order) for order in self.order]
        self.around = [terms(s.context) for s in self.sentences]
        self.headings = [terms(s.heading) for s in self.sentences]
        self.postings: dict[str, list[int]] = {}  # stem: the sentences that say it
        for i, c in enumerate(self.words):
            for t in c:
                self.postings.setdefault(t, []).append(i)
        self.df = {t: len(ids) for t, ids in self.postings.items()}
        self.sizes = [sum(c.values()) for c in self.words]
        self.n = max(len(self.sentences), 1)
        self.avg = sum(self.sizes) / self.n or 1.0
        self.vocab = sorted(self.df)
        self.at_line: dict[tuple[str, int], list[int]] = {}  # (path, line): the sentences on it
        for i, sentence in enumerate(self.sentences):
            path = notepad.files[sentence.file].path
            for line in range(sentence.line, sentence.last + 1):
                self.at_line.setdefault((path, line), []).append(i)

    def idf(self, term: str) -> float:
        df = self.df.get(term, 0)
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))


def sentence_index(notepad) -> SentenceIndex:
    cached = getattr(notepad, "_sentence_index", None)
    if cached is None:
        cached = notepad._sentence_index = SentenceIndex(notepad)
    return cached


def question_words(question: str) -> list[tuple[str, tuple[str, ...]]]:
    """(stem, stems of its synonyms) for each word of the question that says what about."""
    out: dict[str, tuple[str, ...]] = {}
    for word in WORDS.findall(syn.as_code_says(question)):
        low = word.lower()
        if not _telling(low):
            continue
        for t in word_terms(word):
            s = stem(t)
            if s not in out and not t.isdigit():
                out[s] = tuple(dict.fromkeys(stem(x) for x in syn.synonyms(t) if stem(x) != s))
    return list(out.items())


def _telling(word: str) -> bool:
    """Whether a (lower-case) word of a question says what about, not how it is asked."""
    return len(word) >= 2 and word not in FUNCTION_WORDS and word not in STOP_WORDS and word not in QUESTION_WORDS


def _near(index: SentenceIndex, s: str) -> tuple[str, ...]:
    """The manual's other words sharing `s`'s first five letters ("configur" and `config`)."""
    if len(s) < 5:
        return ()
    at = bisect.bisect_left(index.vocab, s[:5])
    out = []
    while at < len(index.vocab) and index.vocab[at].startswith(s[:5]):
        if index.vocab[at] != s:
            out.append(index.vocab[at])
        at += 1
    return tuple(out)


def rank(
    index: SentenceIndex, question: str, passages: list = (), keep: int = CANDIDATES
) -> list[tuple[int, list[float]]]:
    """(sentence index, features) of the best `keep` sentences by BM25, in that order, then
    those on the best-matching lines of the notepad's `passages` for the question."""
    words = [(s, ss, _near(index, s)) for s, ss in question_words(question)]
    weights = {s: index.idf(s) for s, _, _ in words}
    total = sum(weights.values())
    if not total:
        return []
    scored = []
    for i in sorted({i for s in weights for i in index.postings.get(s, ())}):
        tf = index.words[i]
        norm = K1 * (1 - B + B * index.sizes[i] / index.avg)
        scored.append((sum(w * tf[s] * (K1 + 1) / (tf[s] + norm) for s, w in weights.items() if s in tf), i))
    scored.sort(key=lambda x: -x[0])
    scored = scored[:keep]
    in_passage: dict[int, tuple[int, bool]] = {}  # sentence: (its passage's rank, holds the focus)
    for r, p in enumerate(passages):
        for line in range(p.line_start, p.line_end + 1):
            for i in index.at_line.get((p.path, line), ()):
                held = in_passage.get(i, (r, False))
                in_passage[i] = (held[0], held[1] or line == p.focus)
    seen = {i for _, i in scored}
    scored += [(0.0, i) for i, (_, focus) in in_passage.items() if focus and i not in seen]
    if not scored or not scored[0][0]:
        return []
    q_code = {m.group().lower() for m in _CODE_TOKEN.finditer(question)}
    q_numbers = set(_NUMBER.findall(question))
    q_stems = {s for s, _, _ in words}
    said = {w.lower() for w in re.findall(r"[\w$.-]+", question) if _telling(w.lower())}
    numeric = bool(_NUMERIC_QUESTION.search(question))
    wants_name = bool(_NAME_QUESTION.match(question))
    wants_string = bool(_STRING_QUESTION.search(question))
    out = []
    for n, (score, i) in enumerate(scored):
        sentence, tf = index.sentences[i], index.words[i]
        exact = soft = context = heading = 0.0
        for s, synonyms, near in words:
            w = weights[s]
            if s in tf:
                exact += w
            elif any(x in tf for x in near):
                soft += w * NEAR_CREDIT
            elif any(x in tf for x in synonyms):
                soft += w * SYNONYM_CREDIT
            elif s in index.around[i]:
                context += w
            if s in index.headings[i]:
                heading += w
        code = {m.group().lower() for m in _CODE_TOKEN.finditer(sentence.text)} - q_code
        numbers = set(_NUMBER.findall(sentence.text)) - q_numbers
        size = index.sizes[i]
        new = sum(c for t, c in tf.items() if t not in q_stems) / max(size, 1)
        out.append(
            (
                i,
                [
                    score / scored[0][0],
                    exact / total,
                    soft / total,
                    context / total,
                    heading / total,
                    1.0 / (1 + n),
                    float(numeric and bool(numbers)),
                    float(wants_name and bool(code)),
                    float(wants_string and bool(_QUOTED.search(sentence.text))),
                    new,
                    math.log(1 + size) / 4,
                    float(sentence.lead),
                    _pairs(index.order[i], [s for s, _, _ in words]),
                    1.0 / (1 + in_passage[i][0]) if i in in_passage else 0.0,
                    float(in_passage.get(i, (0, False))[1]),
                    float(_opening(sentence.text) in said),
                ],
            )
        )
    return out


def _opening(text: str) -> str:
    """A sentence's first word as a question would write it: `‘--spray’` is --spray."""
    first = text.split(maxsplit=1)[0] if text.strip() else ""
    return first.strip("\"'`\u2018\u2019\u201c\u201d,:;()[]").lower()


def _pairs(order: list[str], asked: list[str]) -> float:
    """The share of the question's neighbouring words (`asked`, in order) that the sentence
    (its stems in `order`) says at most `NEAR_WORDS` apart, in either order."""
    if len(asked) < 2:
        return 0.0
    at: dict[str, list[int]] = {}
    for k, t in enumerate(order):
        at.setdefault(t, []).append(k)
    near = sum(
        any(abs(x - y) <= NEAR_WORDS for x in at.get(a, ()) for y in at.get(b, ())) for a, b in zip(asked, asked[1:])
    )
    return near / (len(asked) - 1)


def fitted() -> dict | None:
    """The fitted ranker and its "not found" threshold (`train.prose_ranker`), when fitted on
    today's `FEATURES`."""
    try:
        from ttt_read.ask.prose_weights import PROSE
    except ImportError:
        return None
    return PROSE if PROSE and list(PROSE.get("features", [])) == list(FEATURES) else None


def refusal_features(
    index: SentenceIndex, question: str, ranked: list[tuple[int, list[float]]], best: int
) -> list[float]:
    """What "not found" is decided on: how much of the question the chosen sentence holds
    (exactly; in any form, or around it; in its heading), the share of the question's weighted
    words the manual never says in any form (what an unanswerable question asks about), and the
    weight of the most telling word that neither the sentence nor its surroundings say."""
    if not ranked:
        return [0.0, 0.0, 0.0, 1.0, 1.0]
    f = ranked[best][1]
    weights = {s: (index.idf(s), synonyms) for s, synonyms in question_words(question)}
    total = sum(w for w, _ in weights.values()) or 1.0
    absent = sum(
        w for s, (w, synonyms) in weights.items() if s not in index.df and not any(x in index.df for x in synonyms)
    )
    i = ranked[best][0]
    held = set(index.words[i]) | index.around[i] | index.headings[i]
    missing = [w for s, (w, synonyms) in weights.items() if s not in held and not any(x in held for x in synonyms)]
    return [f[1], f[1] + f[2] + f[3], f[4], absent / total, max(missing, default=0.0) / total]


def prose_answer(notepad, question: str, passages: list) -> Answer | None:
    """The best sentence of the manual's prose, or "not found"; None without a fitted ranker or
    any prose. `passages`: the notepad's best for the question (`Notepad.search`)."""
    spec = fitted()
    index = sentence_index(notepad)
    if spec is None or not index.sentences:
        return None
    ranked = rank(index, question, passages)
    if not ranked:
        return Answer("", False, 0.0, True, [], {"prose": "no sentence"})
    scores = [sum(w * x for w, x in zip(spec["weights"], f)) for _, f in ranked]
    best = max(range(len(ranked)), key=scores.__getitem__)
    r = spec["refusal"]
    z = sum(w * x for w, x in zip(r["weights"], refusal_features(index, question, ranked, best))) + r["bias"]
    confidence = 1 / (1 + math.exp(-z))
    found = confidence >= spec["threshold"]
    sentence = index.sentences[ranked[best][0]]
    source = sentence_source(notepad, sentence, score=scores[best])
    return Answer(
        sentence.text if found else "",
        found,
        round(confidence, 4),
        True,
        [source],
        {"prose": "sentences", "candidates": len(ranked), "score": round(scores[best], 4)},
    )


def sentence_source(notepad, sentence: Sentence, score: float) -> Source:
    f = notepad.files[sentence.file]
    lines = f.line_list()[sentence.line - 1 : sentence.last]
    quote = "\n".join(lines)
    page = f.page_of(sentence.line)
    cite = f"{f.path} (page {page})" if page is not None else f"{f.path}:{sentence.line}:{sentence.col}"
    return Source(
        path=f.path,
        line=sentence.line,
        col=sentence.col,
        page=page,
        quote=quote,
        span=(sentence.col - 1, len(quote)),
        line_start=sentence.line,
        line_end=sentence.last,
        score=round(score, 4),
        cite=cite,
    )
