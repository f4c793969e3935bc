"""mg.data.make_sentiment_sentences: every label read back from its sentence by a parser written
here from the lexicon, the kinds and rates honoured, seeds, errors."""

from __future__ import annotations

import re

import numpy as np
import pytest

from minigrad import data
from minigrad.data import DataLoader, sentiment

POLARITY = {w: 1 for w in sentiment.POSITIVE_ADJECTIVES} | {w: -1 for w in sentiment.NEGATIVE_ADJECTIVES}
for past, base in sentiment.POSITIVE_VERBS:
    POLARITY[past] = POLARITY[base] = 1
for past, base in sentiment.NEGATIVE_VERBS:
    POLARITY[past] = POLARITY[base] = -1
NEGATIONS = {"not", "never"}


def clause_polarity(clause: str) -> int:
    """+1 / -1: the polarity words of the clause (they all agree), flipped by a negation."""
    words = re.findall(r"[a-z]+", clause.lower())
    found = {POLARITY[w] for w in words if w in POLARITY}
    assert len(found) == 1, f"a clause with {len(found)} polarities: {clause!r}"
    return found.pop() * (-1 if NEGATIONS & set(words) else 1)


def quote_polarity(quote: str) -> int:
    body, _, verb = quote.rstrip("!").partition(" - ")
    items = re.split(r", | and ", body)
    found = {clause_polarity(item) for item in items + ([verb] if verb else [])}
    assert len(found) == 1, f"a quote with mixed items: {quote!r}"
    return found.pop()


def label_from_text(sentence: str, kind: str) -> int:
    """The label (0/1) a reader gives the sentence, from its words and their order alone."""
    s = sentence.rstrip(".!")
    if kind == "quote":
        return int(quote_polarity(sentence) > 0)
    if kind in ("plain", "negated"):
        return int(clause_polarity(s) > 0)
    if kind == "and":
        first, second = re.split(r" and (?=the |I )", s)
        assert clause_polarity(first) == clause_polarity(second)
        return int(clause_polarity(first) > 0)
    if kind == "but":
        minor, main = s.split(", but ")
    elif kind == "although":
        assert s.startswith("Although ")
        minor, main = s[len("Although "):].split(", ")
    else:
        main, minor = s.split(", although ")
    assert clause_polarity(minor) == -clause_polarity(main), "contrasted clauses disagree"
    return int(clause_polarity(main) > 0)


@pytest.mark.parametrize("kind", sentiment.KINDS)
def test_every_label_can_be_read_from_its_sentence(kind):
    ds = data.make_sentiment_sentences(300, kinds=(kind,), negation_rate=0.5, pair_rate=0.5,
                                       seed=7)
    assert set(ds.kinds) == {kind}
    assert [label_from_text(s, kind) for s in ds.sentences] == ds.y.tolist()
    assert 0.35 < ds.y.mean() < 0.65                         # both labels, about half each


def test_default_kinds_are_the_review_kinds_and_samples_are_pairs():
    ds = data.make_sentiment_sentences(601, seed=0)
    assert len(ds) == 601 and ds.y.dtype == np.int64 and ds.y.shape == (601,)
    assert set(ds.kinds) == set(sentiment.REVIEW_KINDS)
    sentence, label = ds[3]
    assert (sentence, label) == (ds.sentences[3], int(ds.y[3])) and isinstance(label, int)
    assert all(s[0].isupper() and s.endswith(".") for s in ds.sentences)


def test_seeds():
    a, b = (data.make_sentiment_sentences(50, seed=3) for _ in range(2))
    assert a.sentences == b.sentences and np.array_equal(a.y, b.y) and a.kinds == b.kinds
    assert data.make_sentiment_sentences(50, seed=4).sentences != a.sentences


def test_kind_weights():
    ds = data.make_sentiment_sentences(4000, kinds={"plain": 3, "but": 1, "quote": 0}, seed=1)
    share = np.mean([k == "plain" for k in ds.kinds])
    assert set(ds.kinds) == {"plain", "but"} and 0.72 < share < 0.78


def test_negation_and_pair_rates():
    def negated(s):
        return bool(NEGATIONS & set(re.findall(r"[a-z]+", s.lower())))

    never = data.make_sentiment_sentences(300, kinds=("but", "and", "quote"), negation_rate=0.0,
                                          seed=2)
    assert not any(negated(s) for s in never.sentences)
    always = data.make_sentiment_sentences(300, kinds=("although",), negation_rate=1.0, seed=2)
    assert all(len(re.findall(r"\b(not|never)\b", s)) == 2 for s in always.sentences)
    assert all(negated(s) for s in data.make_sentiment_sentences(100, kinds="negated",
                                                                 seed=2).sentences)
    assert not any(negated(s) for s in data.make_sentiment_sentences(100, kinds="plain",
                                                                     seed=2).sentences)
    pairs = data.make_sentiment_sentences(300, kinds="plain", pair_rate=1.0, seed=2)
    copular = [s for s in pairs.sentences if not s.startswith("I ")]
    assert copular and all(" and " in s for s in copular)
    single = data.make_sentiment_sentences(300, kinds="plain", pair_rate=0.0, seed=2)
    assert not any(" and " in s for s in single.sentences)


def test_a_bag_of_words_cannot_tell_the_contrasts():
    """In "but" and "although" sentences the polarity words are one of each sign (no negation):
    the same counts give either label, only the order decides."""
    ds = data.make_sentiment_sentences(400, kinds=("but", "although"), negation_rate=0.0,
                                       pair_rate=0.0, seed=5)
    for s in ds.sentences:
        signs = sorted(POLARITY[w] for w in re.findall(r"[a-z]+", s.lower()) if w in POLARITY)
        assert signs == [-1, 1], s
    assert 0.4 < ds.y.mean() < 0.6


def test_a_dataloader_batches_strings_and_labels():
    ds = data.make_sentiment_sentences(10, seed=0)
    sentences, labels = next(iter(DataLoader(ds, batch_size=4)))
    assert sentences == ds.sentences[:4]
    assert labels.dtype == np.int64 and labels.numpy().tolist() == ds.y[:4].tolist()


@pytest.mark.parametrize("kwargs, match", [
    (dict(kinds=("plain", "sarcasm")), "unknown kinds.*sarcasm"),
    (dict(kinds=()), "unknown kinds"),
    (dict(kinds={"plain": -1.0, "but": 2.0}), "kind weights must be >= 0"),
    (dict(kinds={"plain": 0.0}), "kind weights must be >= 0 and not all zero"),
    (dict(negation_rate=1.5), "negation_rate must be in \\[0, 1\\], got 1.5"),
    (dict(pair_rate=-0.1), "pair_rate must be in"),
    (dict(n_samples=-3), "n_samples must be an int >= 0, got -3"),
    (dict(n_samples=2.5), "n_samples must be an int"),
])
def test_bad_arguments_are_refused_by_name(kwargs, match):
    with pytest.raises(ValueError, match="make_sentiment_sentences: " + match):
        data.make_sentiment_sentences(**{"n_samples": 5, **kwargs})


def test_mismatched_columns_are_refused():
    with pytest.raises(ValueError, match="2 sentences, 1 labels and 2 kinds"):
        sentiment.SentimentSentences(["a", "b"], np.array([1]), ["plain", "plain"])
