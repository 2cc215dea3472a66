"""Mission classification from text, measured against official codes, with a cue-terms-only baseline.

    CONVERGENZE_MODELS=/tmp/cz-models .venv/bin/python benchmarks/missions.py [--holdout 0.3] [--seed 7]
        [--topics 0] [--chunks 2] [--cache /tmp/cz-bench-cache]

Truths come from official codes, never from text:
- SDG: the official PNRR -> SDG mapping (Mappatura_PNRR_SNSvS_Agenda2030). ``--holdout`` of its sub-measures
  (seeded) are predicted from their QuadroFin descriptions (mission, component, measure, sub-measure); the rest
  train a nearest-neighbour vote (the supervised option). "prior" predicts the training set's commonest goal.
- Convergenze missions, PNRR missions/components and cohesion objectives for the 285 PNRR sub-measures: the
  classifier's official path (codes -> crosswalk in corpora/taxonomy/missions.yaml). Predicted from the
  QuadroFin descriptions with and without the mission and component names ("bare": measure and sub-measure only).
- Horizon Europe clusters and EU Missions (and their convergenze crosswalk) for the EU topics: the call
  identifier. Predicted from the topic's text, embedded chunk by chunk as the indexer does (first ``--chunks``).

- Convergenze missions for the incentives of the catalogue: their official objectives through the taxonomy's
  crosswalk; predicted from title and description with the objectives removed.

Each table puts the labeller the index uses ("wired: vote + fallback", ``convergenze.index.mission_examples``:
official codes, then a vote of the nearest officially labelled examples for Convergenze missions, cohesion
objectives and SDGs, cue terms and prototypes where it abstains) beside the labeller it replaced ("embeddings +
cues (before)") and the cue terms alone, in the same run. The examples are the ones ingestion embeds (PNRR
sub-measures' descriptions, ``projects_per_submeasure`` funded projects per sub-measure, the incentives, the
Horizon topics) and an item never votes for itself: a sub-measure is labelled without its own projects and
description, a topic without its call's topics, an incentive without itself, and the SDG vote sees no example
of a held-out sub-measure (its cut calibrated without them too). In the "mission+component+measure" variant the
other sub-measures of the same component share the mission and component text, so the vote's figures there say
little; the "measure text only" variant is the fair one.

Micro precision/recall/F1 over (document, label) pairs; "ratio" is F1 over the cue baseline's F1.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from convergenze.core.embedding import DelegatingEmbedder, Embedder  # noqa: E402
from convergenze.core.records import Document, Section  # noqa: E402
from convergenze.core.settings import DataSettings, EmbeddingSettings  # noqa: E402
from convergenze.core.vocabulary import DocType  # noqa: E402
from convergenze.extractors.mission_vote import MissionVote, own_groups  # noqa: E402
from convergenze.extractors.missions import MissionClassifier  # noqa: E402
from convergenze.extractors.taxonomy import SDG_MAPPING_FILE, Taxonomy, read_sdg_mapping  # noqa: E402
from convergenze.index.chunking import Chunker  # noqa: E402
from convergenze.index.embeddings import create_embedder  # noqa: E402
from convergenze.index.mission_examples import (  # noqa: E402
    ExamplesConfig,
    build_vote,
    collect_examples,
    embed_examples,
    mirror_scope,
    read_horizon_topics,
    read_incentives,
    read_quadro,
    topic_passages,
)

Labels = set[tuple[str, str]]


class CachedEmbedder(DelegatingEmbedder):
    """Passage vectors kept on disk between runs (the benchmark is re-run while tuning; the model is slow); the
    examples embed through it too, so texts they share with the scored items are embedded once."""

    def __init__(self, embedder: Embedder, folder: Path | None) -> None:
        super().__init__(embedder)
        self.path = folder / f"{embedder.name}.npz" if folder else None
        self.vectors: dict[str, np.ndarray] = {}
        if self.path and self.path.is_file():
            with np.load(self.path) as stored:
                self.vectors = {key: stored[key] for key in stored.files}

    def embed_passages(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        return self.passages(texts)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
        missing = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in self.vectors))
        if missing:
            for text, vector in zip(missing, self.inner.embed_passages(missing, show_progress=True), strict=True):
                self.vectors[hashlib.sha1(text.encode("utf-8")).hexdigest()] = vector
            if self.path:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                stored: dict[str, Any] = self.vectors
                np.savez(self.path, **stored)
        return np.stack([self.vectors[k] for k in keys]) if keys else np.zeros((0, self.dim), np.float32)


@dataclasses.dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, truth: Labels, predicted: Labels) -> None:
        self.tp += len(truth & predicted)
        self.fp += len(predicted - truth)
        self.fn += len(truth - predicted)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(truths: Sequence[Labels], predictions: Sequence[Labels], keep: Callable[[tuple[str, str]], bool]) -> Score:
    result = Score()
    for truth, predicted in zip(truths, predictions, strict=True):
        result.add({x for x in truth if keep(x)}, {x for x in predicted if keep(x)})
    return result


def print_table(title: str, rows: list[tuple[str, Score]]) -> None:
    baseline = rows[0][1].f1
    print(f"\n{title}")
    print(f"  {'method':<30} {'P':>6} {'R':>6} {'F1':>6} {'ratio':>6} {'pred':>6} {'true':>6}")
    for name, s in rows:
        ratio = f"{s.f1 / baseline:6.2f}" if baseline else "     -"
        print(f"  {name:<30} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f} {ratio} {s.tp + s.fp:6d} {s.tp + s.fn:6d}")


def framework(name: str, *, components: bool | None = None) -> Callable[[tuple[str, str]], bool]:
    def keep(label: tuple[str, str]) -> bool:
        return label[0] == name and (components is None or ("C" in label[1]) == components)

    return keep


def labels(found: Sequence[object]) -> Labels:
    return {(x.framework, x.code) for x in found}  # type: ignore[attr-defined]


def text_document(key: str, text: str, language: str = "it") -> Document:
    title, _, rest = text.partition("\n")
    return Document(
        id=f"bench:{key}",
        source="bench",
        type=DocType.MEASURE,
        title=title,
        sections=[Section(text=rest or title)],
        language=language,
    )


def official_document(row: pd.Series) -> Document:
    meta = {
        "mission_code": row["Missione"],
        "component_code": row["Componente"],
        "submeasure_code": row["Codice Univoco Submisura"],
    }
    return Document(
        id=f"pnrr-measure:{row['Codice Univoco Submisura']}",
        source="bench",
        type=DocType.MEASURE,
        title=row["Descrizione Submisura"],
        sections=[Section(text=row["full"])],
        language="it",
        metadata=meta,
    )


def predict(
    classifier: MissionClassifier,
    documents: Sequence[Document],
    vectors: Sequence[np.ndarray | None],
    texts: Sequence[list[str] | None],
    exclude: Sequence[Collection[str]] | None = None,
) -> list[Labels]:
    """Labels from text; ``exclude[i]``: the groups whose examples must not vote for item i (its own)."""
    groups = exclude or [()] * len(documents)
    return [
        labels(classifier.run(d, passage_vectors=v, passage_texts=t, exclude=g))
        for d, v, t, g in zip(documents, vectors, texts, groups, strict=True)
    ]


def knn(train: np.ndarray, train_goals: list[Labels], test: np.ndarray, k: int = 5, cut: float = 0.4) -> list[Labels]:
    """Similarity-weighted vote of the k most similar training sub-measures; the top goal always passes."""
    result = []
    for sims in test @ train.T:
        top = np.argsort(-sims)[:k]
        votes: dict[tuple[str, str], float] = defaultdict(float)
        for index in top:
            for goal in train_goals[index]:
                votes[goal] += float(sims[index])
        total = float(sims[top].sum())
        ranked = sorted(votes.items(), key=lambda x: -x[1])
        result.append({g for g, v in ranked if v / total >= cut} | {ranked[0][0]} if ranked else set())
    return result


def incentives(corpora: Path, truth_of: MissionClassifier) -> tuple[list[Document], list[Labels]]:
    """The catalogue's incentives with the labels their official objectives give (through the crosswalk)."""
    documents = read_incentives(corpora)
    truths = [labels(truth_of.run(d)) for d in documents]
    return [d for d, t in zip(documents, truths, strict=True) if t], [t for t in truths if t]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holdout", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--topics", type=int, default=0, help="EU topics to score (0: all Horizon topics)")
    parser.add_argument("--chunks", type=int, default=2, help="passages per EU topic that are embedded")
    parser.add_argument("--cache", type=Path, default=None, help="keep passage vectors here between runs")
    parser.add_argument("--null-sigmas", type=float, default=None, help="override the classifier's default")
    args = parser.parse_args()
    started = time.perf_counter()
    data = DataSettings()
    embedder = create_embedder(EmbeddingSettings(), data)
    cache = CachedEmbedder(embedder, args.cache)
    taxonomy = Taxonomy.load()
    mapping = read_sdg_mapping(data.corpora_dir / SDG_MAPPING_FILE)
    options = {} if args.null_sigmas is None else {"null_sigmas": args.null_sigmas}
    truth_of = MissionClassifier(taxonomy, None, mapping, model_frameworks=())
    cues = MissionClassifier(taxonomy, None, None, cues=truth_of.cues)
    before = MissionClassifier(taxonomy, embedder, None, cues=truth_of.cues, **options)

    # --- the wired labeller: the examples ingestion embeds (same cache under the models dir), calibrated votes --
    config = ExamplesConfig(seed=args.seed)
    example_texts = collect_examples(data.corpora_dir, truth_of, config)
    examples = embed_examples(example_texts, cache, data.models_dir, mirror_scope(data.corpora_dir))

    def wired(vote: MissionVote) -> MissionClassifier:
        return MissionClassifier(taxonomy, embedder, None, cues=truth_of.cues, vote=vote, **options)

    vote = build_vote(examples, config.vote)
    print(f"{len(examples)} examples vote: {Counter(_kind(i) for i in examples.ids)}")
    print("vote cut and floor per framework (calibrated on the examples):",
          ", ".join(f"{fw} {c:.2f}/{f:.2f}" for fw, (c, f) in sorted(
              {fw: (vote.cuts[fw], vote.floors[fw]) for fw in vote.frameworks}.items())))
    now = wired(vote)

    # --- PNRR sub-measures: convergenze, PNRR and cohesion from text; truth from the codes ---------------------
    quadro = read_quadro(data.corpora_dir)
    truths = [labels(truth_of.run(official_document(row))) for _, row in quadro.iterrows()]
    codes = list(quadro["Codice Univoco Submisura"])
    own = [{c} for c in codes]  # a sub-measure's description and projects never vote for it
    predictions: dict[str, dict[str, list[Labels]]] = {}
    for variant in ("full", "bare"):
        texts = list(quadro[variant])
        documents = [text_document(str(i), t) for i, t in enumerate(texts)]
        vectors = cache.passages(texts)
        one = [vectors[i : i + 1] for i in range(len(texts))]
        predictions[variant] = {
            "cues (baseline)": predict(cues, documents, [None] * len(texts), [None] * len(texts)),
            "embeddings + cues (before)": predict(before, documents, one, [[t] for t in texts]),
            "wired: vote + fallback (now)": predict(now, documents, one, [[t] for t in texts], own),
        }
    for name, keep in (
        ("convergenze missions", framework("convergenze")),
        ("PNRR missions", framework("pnrr", components=False)),
        ("PNRR components", framework("pnrr", components=True)),
        ("cohesion objectives", framework("cohesion")),
    ):
        for variant, title in (("full", "mission+component+measure text"), ("bare", "measure text only")):
            print_table(
                f"{name} - {len(quadro)} PNRR sub-measures, {title}",
                [(m, score(truths, p, keep)) for m, p in predictions[variant].items()],
            )

    # --- SDG: held-out part of the official mapping ------------------------------------------------------------
    mapped = quadro[quadro["Codice Univoco Submisura"].isin(mapping)].reset_index(drop=True)
    order = list(range(len(mapped)))
    random.Random(args.seed).shuffle(order)
    cut = int(round(len(order) * args.holdout))
    test, train = sorted(order[:cut]), sorted(order[cut:])
    goals = [{("sdg", g) for g, _ in mapping[c]} for c in mapped["Codice Univoco Submisura"]]
    texts = list(mapped["full"])
    vectors = cache.passages(texts)
    test_docs = [text_document(str(i), texts[i]) for i in test]
    test_truth = [goals[i] for i in test]
    commonest = Counter(g for i in train for g in goals[i]).most_common(1)[0][0]
    # No example of a held-out sub-measure votes (its description and projects carry its goals), and the cut
    # is calibrated without them.
    held = set(mapped["Codice Univoco Submisura"].iloc[test])
    sdg_now = wired(build_vote(examples.subset(np.array([g not in held for g in examples.groups])), config.vote))
    rows_sdg = {
        "cues (baseline)": predict(cues, test_docs, [None] * len(test), [None] * len(test)),
        "prior (commonest goal)": [{commonest} for _ in test],
        "embeddings + cues (before)": predict(before, test_docs, [vectors[i : i + 1] for i in test],
                                              [[texts[i]] for i in test]),
        "nearest neighbours (train)": knn(vectors[train], [goals[i] for i in train], vectors[test]),
        "wired: vote + fallback (now)": predict(sdg_now, test_docs, [vectors[i : i + 1] for i in test],
                                                [[texts[i]] for i in test]),
    }
    print_table(
        f"SDG goals - {len(test)} held-out of {len(mapped)} mapped sub-measures (seed {args.seed})",
        [(m, score(test_truth, p, framework("sdg"))) for m, p in rows_sdg.items()],
    )

    # --- EU topics: Horizon clusters and missions from text; truth from the call identifier --------------------
    found = read_horizon_topics(data.corpora_dir, truth_of)
    found = found[: args.topics] if args.topics else found
    topics, eu_truths = [d for d, _ in found], [set(t) for _, t in found]
    chunker = Chunker()
    plain = [dataclasses.replace(d, metadata={}, language="en") for d in topics]
    passages = [topic_passages(d, args.chunks, chunker) for d in topics]
    flat = cache.passages([p for group in passages for p in group])
    bounds = np.cumsum([0] + [len(group) for group in passages])
    topic_vectors = [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    rows_eu = {
        "cues (baseline)": predict(cues, plain, [None] * len(plain), [None] * len(plain)),
        "embeddings + cues (before)": predict(before, plain, topic_vectors, passages),
        "wired: vote + fallback (now)": predict(now, plain, topic_vectors, passages, [own_groups(d) for d in topics]),
    }
    for name, keep in (
        ("Horizon clusters and EU Missions", framework("horizon")),
        ("Horizon clusters only", lambda x: x[0] == "horizon" and x[1].startswith("CL")),
        ("convergenze missions (crosswalk)", framework("convergenze")),
    ):
        print_table(
            f"{name} - {len(topics)} Horizon topics, text only (a call's topics never vote for each other)",
            [(m, score(eu_truths, p, keep)) for m, p in rows_eu.items()],
        )

    # --- incentives: convergenze missions from text; truth from the official objectives ------------------------
    shops, shop_truths = incentives(data.corpora_dir, truth_of)
    bare_shops = [dataclasses.replace(d, metadata={}) for d in shops]
    shop_texts = [f"{d.title}\n{d.text}"[: config.max_chars] for d in shops]
    shop_vectors = cache.passages(shop_texts)
    one = [shop_vectors[i : i + 1] for i in range(len(shops))]
    rows_shop = {
        "cues (baseline)": predict(cues, bare_shops, [None] * len(shops), [None] * len(shops)),
        "embeddings + cues (before)": predict(before, bare_shops, one, [[t] for t in shop_texts]),
        "wired: vote + fallback (now)": predict(now, bare_shops, one, [[t] for t in shop_texts],
                                                [own_groups(d) for d in shops]),
    }
    print_table(
        f"convergenze missions - {len(shops)} incentives, text only (truth: official objectives)",
        [(m, score(shop_truths, p, framework("convergenze"))) for m, p in rows_shop.items()],
    )
    print(f"\n{time.perf_counter() - started:.0f} s, {os.cpu_count()} CPUs")


def _kind(example_id: str) -> str:
    return example_id.split(":", 1)[0]


if __name__ == "__main__":
    main()
