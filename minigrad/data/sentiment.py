"""Review sentences generated from a small sentiment lexicon, for sentence classification.

    ds = mg.data.make_sentiment_sentences(1000, seed=0)
    ds[0]        # ('The jokes are truly great.', 1)
    ds.y         # int64 labels: 1 = positive, 0 = negative
    ds.kinds     # how each sentence was built: 'plain', 'negated', 'and', 'but', ...

A sentence is one or two *clauses* about a film. A clause has a polarity: its adjective's or
verb's (from the word lists below), flipped when the clause is negated ("was not good", "did
not enjoy"). Intensifiers ("very", "truly") change nothing; a clause may carry two adjectives
of the same polarity ("funny and clever", negated: "not funny or clever"). The kinds:

=============  ===============================================  ============================
kind           example                                          label
=============  ===============================================  ============================
plain          The acting was superb.                           the clause
negated        The acting was not superb.                       the clause (flipped)
and            The plot was dull and I hated the ending.        both clauses (they agree)
but            The plot was dull, but I loved the ending.       the clause after "but"
although       Although the plot was dull, I loved the ending.  the main (second) clause
although_end   I loved the ending, although the plot was dull.  the main (first) clause
quote          Witty, moving and never dull!                    every item (they agree)
=============  ===============================================  ============================

The first six are review sentences (``REVIEW_KINDS``, the default): clauses joined by "but"
or "although" always disagree, so a bag of words (which sees one positive and one negative
word, and maybe a "not") cannot tell the label, and a negated clause flips its word's
polarity, which a model linear in word counts cannot represent either: the order of the words
decides. A ``quote`` is a pull quote, three to five words of one polarity: text in which
words of one polarity occur together, as they do in real reviews. In every kind a label is 0
or 1 with probability 1/2. No file is read and nothing is downloaded: the lexicon is the word
lists in this module.
"""

from __future__ import annotations

import numpy as np

from .dataset import Dataset

POSITIVE_ADJECTIVES = (
    "good", "great", "excellent", "wonderful", "superb", "brilliant", "fantastic", "delightful",
    "charming", "enjoyable", "pleasant", "lovely", "impressive", "beautiful", "moving",
    "clever", "solid", "fresh", "gripping", "memorable", "stunning", "elegant", "perfect",
    "witty", "engaging", "terrific", "marvelous", "splendid", "powerful", "funny",
)
NEGATIVE_ADJECTIVES = (
    "bad", "poor", "terrible", "awful", "boring", "dull", "weak", "bland", "clumsy", "tedious",
    "dreadful", "horrible", "mediocre", "disappointing", "forgettable", "messy", "painful",
    "lazy", "stale", "flat", "silly", "annoying", "predictable", "shallow", "ugly", "awkward",
    "pointless", "tiresome", "lifeless", "sloppy",
)
# verbs as (past tense, base form): "I loved the music" / "I did not love the music"
POSITIVE_VERBS = (("loved", "love"), ("liked", "like"), ("enjoyed", "enjoy"),
                  ("adored", "adore"), ("admired", "admire"), ("appreciated", "appreciate"))
NEGATIVE_VERBS = (("hated", "hate"), ("disliked", "dislike"), ("despised", "despise"),
                  ("loathed", "loathe"), ("resented", "resent"), ("regretted", "regret"))
SINGULAR_ASPECTS = ("movie", "film", "plot", "story", "acting", "script", "ending", "dialogue",
                    "music", "soundtrack", "pacing", "direction", "humour", "camera work",
                    "final scene", "main character", "lead actor", "opening")
PLURAL_ASPECTS = ("characters", "actors", "jokes", "visuals", "effects", "performances",
                  "songs", "costumes", "battle scenes", "twists")
INTENSIFIERS = ("very", "really", "truly", "extremely", "quite", "incredibly", "remarkably",
                "so", "rather", "genuinely")            # before an adjective
VERB_ADVERBS = ("really", "truly", "genuinely", "honestly")   # before a verb
NEGATORS = ("not", "never")

REVIEW_KINDS = ("plain", "negated", "and", "but", "although", "although_end")
KINDS = REVIEW_KINDS + ("quote",)


class SentimentSentences(Dataset):
    """Sentences and their labels: ``ds[i] == (sentence, label)``.

    ``ds.sentences`` (a list of str), ``ds.y`` (int64: 1 positive, 0 negative) and ``ds.kinds``
    (a list of str, each one of ``KINDS``) are the whole dataset. A DataLoader batches the
    sentences into a list of strings (as PyTorch's ``default_collate`` does) and the labels
    into an int64 tensor; turning text into token ids is the tokenizer's job.
    """

    def __init__(self, sentences: list[str], labels: np.ndarray, kinds: list[str]):
        if not len(sentences) == len(labels) == len(kinds):
            raise ValueError(f"SentimentSentences: {len(sentences)} sentences, {len(labels)} "
                             f"labels and {len(kinds)} kinds: expected one of each per sample")
        self.sentences = list(sentences)
        self.y = np.asarray(labels, dtype=np.int64)
        self.kinds = list(kinds)

    def __len__(self):
        return len(self.sentences)

    def __getitem__(self, index):
        return self.sentences[index], int(self.y[index])

    def __repr__(self):
        return f"SentimentSentences({len(self)} sentences, {int(self.y.sum())} positive)"


def make_sentiment_sentences(n_samples: int = 1000, kinds=REVIEW_KINDS,
                             negation_rate: float = 0.4, pair_rate: float = 0.2,
                             seed=None) -> SentimentSentences:
    """``n_samples`` generated review sentences with their sentiment (see the module docstring).

    Args:
        kinds: the constructions to use: a sequence of names from ``KINDS`` (each sentence
            draws one of them with equal probability) or a dict ``{kind: weight}`` (drawn in
            proportion to the weights).
        negation_rate: the probability that a clause of a two-clause sentence, or an item of
            a quote, is negated ("was not good", "never dull"). Plain sentences are never
            negated, negated ones always.
        pair_rate: the probability that a clause has two adjectives of the same polarity
            ("was funny and clever", "was not funny or clever") instead of one.
        seed: the same seed gives the same samples.

    Each sample draws its label, 0 or 1, with probability 1/2.
    """
    names, weights = _kind_weights(kinds)
    if int(n_samples) != n_samples or n_samples < 0:
        raise ValueError(f"make_sentiment_sentences: n_samples must be an int >= 0, "
                         f"got {n_samples!r}")
    for name, rate in (("negation_rate", negation_rate), ("pair_rate", pair_rate)):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"make_sentiment_sentences: {name} must be in [0, 1], "
                             f"got {rate!r}")
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, int(n_samples))
    chosen = [names[k] for k in rng.choice(len(names), size=int(n_samples), p=weights)]
    texts = [_sentence(rng, kind, 1 if label else -1, negation_rate, pair_rate)
             for kind, label in zip(chosen, labels)]
    return SentimentSentences(texts, labels, chosen)


def _kind_weights(kinds):
    """(names, probabilities) from a sequence of kind names or a dict {kind: weight}."""
    if isinstance(kinds, str):
        kinds = (kinds,)
    pairs = list(kinds.items()) if isinstance(kinds, dict) else [(k, 1.0) for k in kinds]
    unknown = [k for k, _ in pairs if k not in KINDS]
    if unknown or not pairs:
        raise ValueError(f"make_sentiment_sentences: unknown kinds {unknown or pairs!r}; "
                         f"expected a non-empty selection of {KINDS}")
    weights = np.array([w for _, w in pairs], dtype=np.float64)
    if not np.all(np.isfinite(weights)) or (weights < 0).any() or weights.sum() <= 0:
        raise ValueError(f"make_sentiment_sentences: kind weights must be >= 0 and not all "
                         f"zero, got {dict(pairs)}")
    return [k for k, _ in pairs], weights / weights.sum()


def _pick(rng, words):
    return words[rng.integers(len(words))]


def _clause(rng, polarity: int, negated: bool, pair_rate: float) -> str:
    """One clause whose meaning has ``polarity`` (+1 / -1)."""
    word_polarity = -polarity if negated else polarity
    intensify = rng.random() < 0.35
    if rng.random() < 0.7:                                  # "the plot was (not) (very) good"
        plural = rng.random() < 0.35
        aspect = _pick(rng, PLURAL_ASPECTS if plural else SINGULAR_ASPECTS)
        verb = (("were", "are") if plural else ("was", "is"))[int(rng.random() < 0.3)]
        adjectives = POSITIVE_ADJECTIVES if word_polarity > 0 else NEGATIVE_ADJECTIVES
        adjective = _pick(rng, adjectives)
        if rng.random() < pair_rate:                        # "funny and clever", "not funny or clever"
            second = _pick(rng, [a for a in adjectives if a != adjective])
            adjective = f"{adjective} {'or' if negated else 'and'} {second}"
        negation = _pick(rng, NEGATORS) + " " if negated else ""
        # "not very good", but not "not rather good": after a negation only the first four
        intensifier = _pick(rng, INTENSIFIERS[:4] if negated else INTENSIFIERS) + " " \
            if intensify else ""
        return f"the {aspect} {verb} {negation}{intensifier}{adjective}"
    past, base = _pick(rng, POSITIVE_VERBS if word_polarity > 0 else NEGATIVE_VERBS)
    aspect = _pick(rng, SINGULAR_ASPECTS + PLURAL_ASPECTS)
    adverb = _pick(rng, VERB_ADVERBS) + " " if intensify else ""
    if negated:
        return f"I did not {adverb}{base} the {aspect}"
    return f"I {adverb}{past} the {aspect}"


def _sentence(rng, kind: str, polarity: int, negation_rate: float, pair_rate: float) -> str:
    """One sentence of the given kind whose label is ``polarity`` (+1 / -1)."""
    def clause(p, negated=None):
        if negated is None:                                 # a clause of a two-clause sentence
            negated = bool(rng.random() < negation_rate)
        return _clause(rng, p, negated, pair_rate)

    if kind == "quote":
        return _quote(rng, polarity, negation_rate)
    if kind == "plain":
        text = clause(polarity, negated=False)
    elif kind == "negated":
        text = clause(polarity, negated=True)
    elif kind == "and":
        text = f"{clause(polarity)} and {clause(polarity)}"
    elif kind == "but":
        text = f"{clause(-polarity)}, but {clause(polarity)}"
    elif kind == "although":
        text = f"although {clause(-polarity)}, {clause(polarity)}"
    else:                                                   # although_end
        text = f"{clause(polarity)}, although {clause(-polarity)}"
    return text[0].upper() + text[1:] + "."


def _quote(rng, polarity: int, negation_rate: float) -> str:
    """A pull quote: three to five words of one polarity, "Witty, moving and never dull!"; an
    item is negated ("never dull") with probability ``negation_rate``, and one quote in three
    ends with a verb ("... - I loved it!")."""
    same = POSITIVE_ADJECTIVES if polarity > 0 else NEGATIVE_ADJECTIVES
    opposite = NEGATIVE_ADJECTIVES if polarity > 0 else POSITIVE_ADJECTIVES
    n = int(rng.integers(3, 6))
    items = []
    for word in rng.choice(len(same), n, replace=False):
        if rng.random() < negation_rate:
            items.append(f"{_pick(rng, NEGATORS)} {_pick(rng, opposite)}")
        else:
            items.append(same[word])
    text = ", ".join(items[:-1]) + " and " + items[-1]
    if rng.random() < 1 / 3:
        text += f" - I {_pick(rng, POSITIVE_VERBS if polarity > 0 else NEGATIVE_VERBS)[0]} it"
    return text[0].upper() + text[1:] + "!"


__all__ = ["SentimentSentences", "make_sentiment_sentences", "KINDS", "REVIEW_KINDS",
           "POSITIVE_ADJECTIVES", "NEGATIVE_ADJECTIVES", "POSITIVE_VERBS", "NEGATIVE_VERBS",
           "INTENSIFIERS", "VERB_ADVERBS", "NEGATORS"]
