"""Ranking the units of the kind asked for: how well each one's name, doc comment, owner and first
lines cover the question's words, weighted by rarity, then the fitted ranker (`train.ranker`) and,
when turned on, the memory's likelihood of each answer (`memory_scores`).
"""

from __future__ import annotations

import bisect
import math
import os
import re
from collections import Counter

from ttt_read.ask import synonyms as syn
from ttt_read.ask.intent import KIND_WORDS, STOP_WORDS, TYPE_WORDS, Asked, head_noun
from ttt_read.ask.raised import ERROR_CLASS
from ttt_read.ask.stems import WORDS, question_terms, stem, terms, word_parts
from ttt_read.ask.syntax import numeric
from ttt_read.ask.unit import Unit
from ttt_read.ask.units import notepad_units
from ttt_read.notepad.lexicon import FUNCTION_WORDS, word_terms

FIELD_WEIGHTS = {  # definitions / other units
    "name": (2.0, 2.0),
    "doc": (1.2, 0.7),
    "owner": (0.7, 1.2),
    "context": (0.5, 0.8),
    "path": (0.3, 0.4),
}
SYNONYM_CREDIT = 0.3
NEAR_CREDIT = 0.7  # another form sharing the beginning: `config` for "configures"
PART_CREDIT = 0.6  # a question word inside a name that does not split (`getchar`, `progressbar`)
RAISED_PRIOR = 0.6  # an error's statement, against an exception class (1.0) named like the question
NOT_FOUND_THRESHOLD = 0.25  # below this support (`supported`) the answer is "not found"
RERANK = 5  # candidates the memory reranks
# How much the memory's log-likelihood ratio (`memory_scores`) counts against the ranker's score
# when reranking the best few. On the hand-worded sets it loses right answers at every weight
# (the model card, `tools/measure_memory_rerank.py`), so it is off; `TTT_READ_MEMORY_RERANK=0.5`
# turns it on to measure it again.
MEMORY_WEIGHT = float(os.environ.get("TTT_READ_MEMORY_RERANK", "0") or 0)


class UnitIndex:
    def __init__(self, units: list[Unit]):
        self.units = units
        self.fields: list[dict[str, set[str]]] = []
        df: Counter = Counter()
        for u in units:
            path_stem = u.path.rpartition("/")[2].rpartition(".")[0]
            f = {
                "name": terms(u.name),
                "doc": terms(u.doc),
                "owner": terms(u.owner),
                "context": terms(u.context),
                "path": terms(path_stem),
            }
            self.fields.append(f)
            df.update(set().union(*f.values()))
        self.df = df
        self.n = max(len(units), 1)
        self.vocab = sorted(t for t in df if len(t) >= 3 and not t.isdigit())
        self.known = known = set(self.vocab)
        for u, f in zip(units, self.fields):  # `urlopen` is "url" + "open", `threadsafe` "thread" + "safe"
            if u.kind == "value":
                continue
            for piece in word_parts(u.name)[1:] or [u.name.strip("_").lower()]:
                parts = segment(piece, known) if re.fullmatch(r"[a-z]{6,}", piece) else None
                if parts:
                    f["name"] |= {stem(p) for p in parts}
                    df.update(stem(p) for p in parts)
        self.name_parts = [max(1, len(f["name"]) - 1) for f in self.fields]
        stems = [_name_stems(u.name, known) for u in units]
        self.name_words = [set(n) for n in stems]
        self.name_heads = [n[-1] if n else "" for n in stems]
        self.doc_first = [terms(_FIRST_SENTENCE.match(u.doc).group()) for u in units]
        self.doc_lead = [_lead(u.doc) for u in units]
        self.doc_sizes = [len(f["doc"]) for f in self.fields]
        self.positions = [_positions(u) for u in units]
        self.by_name: dict[str, list[int]] = {}
        for i, u in enumerate(units):
            self.by_name.setdefault(u.name, []).append(i)

    def idf(self, term: str) -> float:
        df = self.df.get(term, 0)
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))


_FIRST_SENTENCE = re.compile(r"(?s).*?(?:[.!?](?=\s|$)|$)")


def _name_stems(name: str, known: set[str]) -> list[str]:
    """The stems a name is made of, in order (`allowUnknownOption`: allow, unknown, option;
    `filename`: file, name), leaving out function words (`from`, `to`) and numbers: what a
    question naming it would say. The last is the noun it is named by (`DataHandler`: handler)."""
    out = []
    for piece in word_parts(name)[1:] or [name.strip("_").lower()]:
        if piece in FUNCTION_WORDS or piece.isdigit():
            continue
        parts = segment(piece, known) if re.fullmatch(r"[a-z]{6,}", piece) else None
        out += [stem(p) for p in parts or [piece]]
    return out


PAIR_SPAN = 3  # words apart, at most, for two question words to count as said together


def _positions(u: Unit) -> dict[str, list[int]]:
    """Where each stem stands in the unit's name, then (further on) in its doc comment: which
    question words a definition says together ("option ... must", "environment variable")."""
    out: dict[str, list[int]] = {}
    words = [t for w in WORDS.findall(u.name) for t in (word_parts(w)[1:] or word_parts(w))]
    words += [""] * (PAIR_SPAN + 1) + [t for w in WORDS.findall(u.doc) for t in word_terms(w)[:1]]
    for at, word in enumerate(words):
        if word and word not in FUNCTION_WORDS:
            out.setdefault(stem(word), []).append(at)
    return out


def _pairs_said(positions: dict[str, list[int]], forms: list[tuple[str, ...]]) -> float:
    """The share of the question's neighbouring word pairs that the unit says within
    `PAIR_SPAN` words of each other, in any of their forms."""
    if len(forms) < 2:
        return 0.0
    spots = [[p for f in fs for p in positions.get(f, ())] for fs in forms]
    said = sum(any(abs(a - b) <= PAIR_SPAN for a in first for b in second) for first, second in zip(spots, spots[1:]))
    return said / (len(forms) - 1)


def _lead(doc: str) -> str:
    """The stem of a doc comment's first word: its verb, in the usual style ("Return the ...")."""
    first = WORDS.search(doc)
    return stem(first.group()) if first else ""


def segment(word: str, known: set[str]) -> list[str] | None:
    """`word` as two or three words of 3+ letters whose stems are `known`, when it splits so
    (`filename`: file, name)."""
    n = len(word)
    for i in range(3, n - 2):
        a, b = word[:i], word[i:]
        if stem(a) in known and stem(b) in known:
            return [a, b]
    for i in range(3, n - 5):
        for j in range(i + 3, n - 2):
            a, b, c = word[:i], word[i:j], word[j:]
            if stem(a) in known and stem(b) in known and stem(c) in known:
                return [a, b, c]
    return None


def near_forms(index: UnitIndex, s: str) -> tuple[str, ...]:
    """Terms of the units that one of `s` begins with ("configur" and `config`), 5+ letters shared."""
    if len(s) < 5:
        return ()
    out = [s[:k] for k in range(5, len(s)) if s[:k] in index.df]
    at = bisect.bisect_right(index.vocab, s)
    while at < len(index.vocab) and index.vocab[at].startswith(s) and len(out) < 12:
        out.append(index.vocab[at])
        at += 1
    return tuple(t for t in out if t != s)


def unit_index(notepad) -> UnitIndex:
    cached = getattr(notepad, "_unit_index", None)
    if cached is None:
        cached = notepad._unit_index = UnitIndex(notepad_units(notepad))
        cached.notepad = notepad
    return cached


def absent_words(index: UnitIndex, question: str, asked: Asked) -> float:
    """The share of the question's (weighted) words that the sources never use, in any form:
    "Which function parses YAML?" of a codebase without the word YAML."""
    from ttt_read.notepad.lexicon import inflections

    notepad = getattr(index, "notepad", None)
    total = absent = 0.0
    for word in WORDS.findall(re.sub(r"`([^`]*)`", r" \1 ", question)):
        low = word.lower()
        if low in FUNCTION_WORDS or low in STOP_WORDS or low in TYPE_WORDS or low in KIND_WORDS or len(low) < 3:
            continue
        if low.isdigit():
            continue
        s = stem(low)
        weight = index.idf(s) if s in index.df else math.log(1 + index.n)
        total += weight
        if s in index.df or near_forms(index, s) or any(stem(x) in index.df for x in syn.synonyms(low)):
            continue
        if notepad is not None and any(notepad.df_of(form) for form in [low, *inflections(low)]):
            continue
        absent += weight
    return absent / total if total else 0.0


def rarest_missing(index: UnitIndex, asked: Asked, question: str, i: int) -> float:
    """The weighted share of the most telling question word that unit `i` lacks in every field
    and form: "Which class reads *YAML* configuration?" answered by a name that only reads."""
    qterms = question_terms(question, asked)
    total = sum(index.idf(s) * w for s, w, _ in qterms) or 1.0
    held = set().union(*index.fields[i].values())
    name_low = index.units[i].name.lower()
    missing = [
        index.idf(s) * w
        for s, w, synonyms in qterms
        if s not in held
        and not (len(s) >= 4 and s in name_low)
        and not any(x in held for x in (*synonyms, *near_forms(index, s)))
    ]
    return max(missing, default=0.0) / total


_TEST_PATH = re.compile(r"(?:^|/)(?:tests?|testing|testdata|examples?)/|(?:^|/)test_[^/]*$|_test\.\w+$|\.test\.\w+$")
_TEST_NAME = re.compile(r"^(?:test|Test|Example|Benchmark|Fuzz)(?:[A-Z_]|$)")


def _placement(u: Unit) -> float:
    """Users ask about what a package exports, not its private helpers or its tests (an error
    reaches them from wherever it is raised)."""
    name, prior = ("" if u.kind == "error" else u.name), 1.0
    if name.startswith("__") and name.endswith("__") or name in ("constructor", "init", "new", "New"):
        prior *= 0.2
    elif name.startswith("_") or "private" in u.tags:
        prior *= 0.4
    elif u.path.endswith(".go") and name[:1].islower() and "registered" not in u.tags:
        prior *= 0.5  # unexported, unless a table registers it under that name
    if _TEST_NAME.match(name) or _TEST_PATH.search(u.path):
        prior *= 0.3
    if any(part.startswith("_") and not part.startswith("__") for part in u.path.split("/")):
        prior *= 0.7
    return prior


# a default that stands for "not given" (`timeout=USE_CLIENT_DEFAULT`): the real one is elsewhere
_SENTINEL = re.compile(r"(?:\w+\.)?_?(?:USE_\w*DEFAULT|UNSET|MISSING|NOT_?GIVEN|NOT_?SET|NOTHING|sentinel|marker)")


def kind_prior(u: Unit, asked: Asked) -> float:
    """How well a unit's kind fits what the question asks for (0: not at all)."""
    if asked.want == "definition":
        if u.kind == "event" or asked.kind == "event":  # `emit('ready')`; `EV_READY = 'ready'` names one too
            return {"event": 1.0, "variable": 0.3}.get(u.kind, 0.1) * _placement(u) if asked.kind == "event" else 0.0
        if u.kind == "error":  # `raise QueueFull`: what a question about an error, not its class, is answered by
            return (1.0 if asked.message else RAISED_PRIOR) * _placement(u) if asked.kind == "exception" else 0.0
        if u.kind == "option" and asked.kind in ("how", None):
            return 0.7
        if u.kind == "value" and asked.kind is None:
            return 0.5
        if u.kind == "value" and asked.kind == "how" and re.fullmatch(r"[a-z_$][\w$]*", u.name):
            return 0.4 * _placement(u)  # "How do I make workers restart?": a parameter, `max_tasks_per_child`
        if u.kind == "value" and asked.kind == "variable" and re.fullmatch(r"[A-Z][A-Z0-9_]+", u.name):
            return 0.8 * _placement(u)  # "Which constant ...": `exports.DOT_RE = /.../` defines one
        if u.kind == "env" and asked.kind in ("variable", None):
            return 1.0 if asked.kind == "variable" else 0.6
        if u.kind == "variable":
            if asked.kind == "property" and "field" in u.tags:
                return _placement(u)
            if asked.kind == "exception":
                return 1.0 if re.match(r"^(Err|E[A-Z_])|(Error|Exception)$", u.name) else 0.2
            prior = {"variable": 1.0, None: 0.8, "class": 0.3, "how": 0.3, "enum": 0.5}.get(asked.kind, 0.0)
            return prior * _placement(u)
        if u.kind not in ("function", "method", "class", "type", "command"):
            return 0.0
        k = asked.kind
        table = {
            "function": {"function": 1.0, "method": 0.8, "command": 1.0, "class": 0.4, "type": 0.2},
            "method": {"method": 1.0, "function": 0.8, "command": 0.8, "class": 0.3, "type": 0.1},
            "decorator": {"function": 0.8, "method": 0.5, "class": 0.3},
            "property": {"method": 0.7, "function": 0.5, "class": 0.2},
            "class": {"class": 1.0, "type": 0.8, "function": 0.3, "method": 0.2},
            "exception": {"class": 0.5, "type": 0.3},
            "enum": {"class": 0.6, "type": 0.6},
            "command": {"command": 1.0, "function": 0.9, "method": 0.8},
            None: {"class": 1.0, "function": 0.9, "method": 0.9, "type": 0.7, "command": 0.9},
            "how": {"function": 1.0, "method": 1.0, "command": 1.0, "class": 0.5, "type": 0.2},
            "variable": {"class": 0.2, "type": 0.2},
        }[k]
        table["variable"] = {"function": 0.2, "method": 0.1, "class": 0.3, "type": 0.3}
        prior = table.get(u.kind, 0.0)
        if k in u.tags or (k == "decorator" and "decorator" in u.tags):
            prior = max(prior, 1.0)
        if k == "exception" and ("exception" in u.tags or ERROR_CLASS.fullmatch(u.name)):
            prior = 0.5 if asked.message else 1.0  # an exception class, or a constructor function of one
        return prior * _placement(u)
    if asked.want == "value":
        if u.kind != "value":
            return 0.0
        value = u.answer
        is_number = numeric(value)
        is_none = value in ("None", "null", "nil", "undefined", "NULL", "''", '""') or bool(_SENTINEL.fullmatch(value))
        is_bool = value in ("True", "False", "true", "false")
        prior = 1.0
        if is_none:
            prior = 0.25
        if asked.numeric:
            prior *= 1.0 if is_number or re.fullmatch(r"[\w.]*[A-Z][A-Z0-9_]+", value) else 0.45
        if asked.boolean:
            prior *= 1.0 if is_bool else 0.4
        return prior
    if asked.want == "option":  # in code, an option is a setting with a default: `opts.depth = 0`
        if u.kind == "value" and re.fullmatch(r"[a-z_$][\w$]*", u.name):
            return 0.6 * _placement(u)
        if "field" in u.tags:  # a documented member of an options struct or interface
            return 0.8 * _placement(u)
        if asked.kind == "flag" and u.kind in ("variable", "env") and re.fullmatch(r"[A-Z][A-Z0-9_]+", u.name):
            return 0.7 * _placement(u)  # a flag constant: `IDN2_NO_TR46`, `GCRY_MD_FLAG_BUGEMU1`
        return 1.0 if u.kind == "option" else 0.0
    if asked.want == "file":
        return (0.3 if _TEST_PATH.search(u.path) else 1.0) if u.kind == "file" else 0.0
    if asked.want == "env":
        if u.kind != "env":
            return 0.0
        return 1.0 if "env-context" in u.tags else 0.5
    return 0.0


FEATURES = (
    "lexical",  # the hand-weighted score over the best candidate's
    "coverage",
    "log_prior",  # kind_prior: how well the unit's kind fits the question
    "name",  # shares of the question's weighted words found exactly in each field,
    "name_soft",  # or as another form, a synonym or a part of an unsplit name
    "doc",
    "doc_soft",
    "owner",
    "context",
    "path",
    "first",  # 1 / (1 + rank by the hand-weighted score)
    "name_explained",  # share of the name's words the question says, in some form
    "name_size",  # parts of the name, over 5
    "doc_first",  # share of the question's weighted words in the doc comment's first sentence
    "verb",  # the question's first word (its verb: "Which method *returns* ...") leads the doc or the name
    "pairs",  # share of the question's neighbouring word pairs the name or doc says close together
    "noun",  # the name ends in the noun the question names its answer by ("Which handler": DataHandler)
    "named",  # the question writes the unit's name as code does ("Which gcry_control command ..."): a subject
)


def code_names(question: str, index: UnitIndex) -> set[str]:
    """The names a question writes as code does: in backquotes, with an underscore, a digit or a
    capital inside (`gcry_control`, `CancelToken`, `toFormData`), called (`parse()`), or a name of
    `index` that is no English word but two run together (`urlparse`, `getattr`)."""
    quoted = set(re.findall(r"`([^`\s]+)`", question)) | set(re.findall(r"([A-Za-z_$][\w$.]*)\(\)", question))
    spelled = {w for w in WORDS.findall(question) if re.search(r"_|\d|[a-z][A-Z]", w.strip("_"))}
    run_together = {
        w
        for w in WORDS.findall(question)
        if w in index.by_name and not syn.is_english(w) and segment(w.lower(), index.known)
    }
    return quoted | spelled | run_together


def rank(
    index: UnitIndex, asked: Asked, question: str, keep: int = 30, use_weights: bool = True
) -> list[tuple[float, float, int, list[float]]]:
    """(score, coverage, unit index, features), best first: the hand-weighted score, then the
    learned ranker's when it has weights (`ranker_weights`)."""
    qterms = [(s, w, ss, near_forms(index, s)) for s, w, ss in question_terms(question, asked)]
    if not qterms:
        return []
    total = sum(index.idf(s) * w for s, w, _, _ in qterms) or 1.0
    definition = asked.want == "definition"
    said = {x for s, _, synonyms, near in qterms for x in (s, *synonyms, *near)}
    head = next(((s, *synonyms) for s, w, synonyms, _ in qterms if w >= 1.0), ())
    forms = [(s, *near) for s, _, _, near in qterms]
    noun = head_noun(question)
    nouns = {stem(noun), *near_forms(index, stem(noun))} if noun else set()
    written = code_names(question, index)
    out = []
    for i, u in enumerate(index.units):
        prior = kind_prior(u, asked)
        if prior <= 0:
            continue
        f = index.fields[i]
        name_low = u.name.lower()
        score = covered = 0.0
        shares = dict.fromkeys(("name", "name_soft", "doc", "doc_soft", "owner", "context", "path"), 0.0)
        name_norm = 1.0 / (1.0 + 0.15 * max(0, index.name_parts[i] - 2))
        doc_norm = min(1.0, math.sqrt(30 / max(index.doc_sizes[i], 1)))
        for s, w, synonyms, near in qterms:
            best = 0.0
            idf = index.idf(s) * w
            for field, terms_ in f.items():
                fw = FIELD_WEIGHTS[field][0 if definition else 1]
                fw *= name_norm if field == "name" else doc_norm if field == "doc" else 1.0
                soft = field + "_soft" if field in ("name", "doc") else field
                if s in terms_:
                    best = max(best, fw)
                    shares[field] += idf
                elif near and any(x in terms_ for x in near):
                    best = max(best, fw * NEAR_CREDIT)
                    shares[soft] += idf * NEAR_CREDIT
                elif synonyms and any(x in terms_ for x in synonyms):
                    best = max(best, fw * SYNONYM_CREDIT)
                    shares[soft] += idf * SYNONYM_CREDIT
            if not best and len(s) >= 4 and s in name_low:
                best = FIELD_WEIGHTS["name"][0] * PART_CREDIT
                shares["name_soft"] += idf * PART_CREDIT
            if best:
                score += idf * best
                covered += idf * min(1.0, best)
        if score > 0:
            features = [0.0, covered / total, math.log(prior)] + [v / total for v in shares.values()]
            words = index.name_words[i]
            explained = len(words & said) / len(words) if words else 0.0
            first = sum(index.idf(s) * w for s, w, _, _ in qterms if s in index.doc_first[i]) / total
            verb = float(bool(head) and (index.doc_lead[i] in head or bool(words & set(head[:1]))))
            pairs = _pairs_said(index.positions[i], forms)
            named = float(index.name_heads[i] in nouns)
            features += [0.0, explained, min(index.name_parts[i], 5) / 5, first, verb, pairs, named]
            features.append(float(u.name in written))
            out.append((score * prior, covered / total, i, features))
    out.sort(key=lambda r: -r[0])
    out = out[:keep]
    if not out:
        return out
    top = out[0][0]
    for n, (score, _, _, features) in enumerate(out):
        features[0] = score / top
        features[10] = 1.0 / (1 + n)
    weights = fitted_weights() if use_weights else None
    if weights is not None:
        w, b = weights["weights"], weights["bias"]
        out = [(sum(a * x for a, x in zip(w, feats)) + b, c, i, feats) for _, c, i, feats in out]
        out.sort(key=lambda r: -r[0])
    return out


def fitted_weights() -> dict | None:
    """The fitted ranker (`train.ranker`), when it was fitted on today's `FEATURES`."""
    try:
        from ttt_read.ask import ranker_weights
    except ImportError:
        return None
    w = ranker_weights.RANKER
    return w if w and list(w.get("features", [])) == list(FEATURES) else None


# --- the memory's say --------------------------------------------------------------------------


def memory_scores(memory, question: str, answers: list[str], use_memory: bool = True) -> list[float]:
    """For each answer: log p(answer | question) per token with the read fast weights (the state
    `ask` answers the question from, `fast_weights`), minus the same with the initial ones (the
    QA turn format training uses, no passages shown)."""
    import torch

    from ttt_read.ask.span import window_hidden
    from ttt_read.text import tokenizer as tok

    tokenizer, model = memory.tokenizer, memory.model
    prompt = tok.encode_qa_prompt(tokenizer, question)
    states = [memory.fast_weights(True, question), memory.fast_weights(False)]
    out = []
    for a in answers:
        ids = prompt + tok.encode_answer(tokenizer, a)
        targets = torch.tensor(ids[len(prompt) :])
        per_state = []
        for fast in states:
            h = window_hidden(model, ids, fast)
            logp = torch.log_softmax(model.logits(h[len(prompt) - 1 : len(ids) - 1]).float(), -1)
            per_state.append(float(logp.gather(-1, targets.view(-1, 1)).sum()))
        out.append((per_state[0] - per_state[1]) / max(len(targets), 1))
    return out
