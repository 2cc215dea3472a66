"""Mission classification from text, measured against official codes, with a cue-terms-only baseline.

    CONVERGENZE_MODELS=/tmp/cz-models .venv/bin/python benchmarks/missions.py [--holdout 0.3] [--seed 7]
        [--topics 0] [--chunks 6] [--cache /tmp/cz-bench-cache] [--projects 25] [--k 10]

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

Each table puts the labeller the index uses ("embeddings + cues (current)") beside a supervised one measured in
the same run (``mission_vote``): a vote of the nearest labelled examples (``--projects`` funded projects per
sub-measure, the incentives, the Horizon topics and, for the sub-measures, the other sub-measures' descriptions)
with cuts calibrated per framework on the examples. An item never votes for itself: a sub-measure is labelled
without its own projects and description, a topic without its call's topics, an incentive without itself, and
the SDG vote sees no project of a held-out sub-measure. In the "mission+component+measure" variant the other
sub-measures of the same component share the mission and component text, so the vote's figures there say little;
the "measure text only" variant is the fair one.

Micro precision/recall/F1 over (document, label) pairs; "ratio" is F1 over the cue baseline's F1.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from mission_vote import Examples, Vote  # noqa: E402

from convergenze.core.embedding import Embedder
from convergenze.core.records import Document, Section  # noqa: E402
from convergenze.core.settings import DataSettings, EmbeddingSettings  # noqa: E402
from convergenze.core.vocabulary import DocType  # noqa: E402
from convergenze.corpora.connectors.base import SourceSpec  # noqa: E402
from convergenze.corpora.connectors.eu_topics import EuTopicsConnector  # noqa: E402
from convergenze.corpora.registry import SourceResolver, build_connector, load_sources, select_sources  # noqa: E402
from convergenze.extractors.missions import MissionClassifier  # noqa: E402
from convergenze.extractors.taxonomy import SDG_MAPPING_FILE, Taxonomy, read_sdg_mapping  # noqa: E402
from convergenze.index.chunking import Chunker  # noqa: E402
from convergenze.index.embeddings import create_embedder  # noqa: E402
from convergenze.index.indexer import embedding_text  # noqa: E402

Labels = set[tuple[str, str]]


class CachedEmbedder:
    """Passage vectors kept on disk between runs (the benchmark is re-run while tuning; the model is slow)."""

    def __init__(self, embedder: Embedder, folder: Path | None) -> None:
        self.embedder = embedder
        self.path = folder / f"{embedder.name}.npz" if folder else None
        self.vectors: dict[str, np.ndarray] = {}
        if self.path and self.path.is_file():
            with np.load(self.path) as stored:
                self.vectors = {key: stored[key] for key in stored.files}

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
        missing = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in self.vectors))
        if missing:
            for text, vector in zip(missing, self.embedder.embed_passages(missing, show_progress=True), strict=True):
                self.vectors[hashlib.sha1(text.encode("utf-8")).hexdigest()] = vector
            if self.path:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                np.savez(self.path, **self.vectors)
        return np.stack([self.vectors[k] for k in keys]) if keys else np.zeros((0, self.embedder.dim), np.float32)


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


def quadro_items(corpora: Path) -> pd.DataFrame:
    frame = pd.read_csv(
        corpora / "italia-domani/OpenData_PNRR_QuadroFin_Programmazione_v04.csv",
        sep=";",
        encoding="utf-8-sig",
        dtype=str,
    ).dropna(subset=["Codice Univoco Submisura"])
    frame = frame.drop_duplicates("Codice Univoco Submisura").fillna("")
    frame["full"] = (
        "Missione: "
        + frame["Descrizione Missione"]
        + "\nComponente: "
        + frame["Descrizione Componente"]
        + "\nMisura: "
        + frame["Descrizione Misura"]
        + "\nSubmisura: "
        + frame["Descrizione Submisura"]
    )
    frame["bare"] = "Misura: " + frame["Descrizione Misura"] + "\nSubmisura: " + frame["Descrizione Submisura"]
    return frame.reset_index(drop=True)


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
) -> list[Labels]:
    return [
        labels(classifier.run(d, passage_vectors=v, passage_texts=t))
        for d, v, t in zip(documents, vectors, texts, strict=True)
    ]


def knn(train: np.ndarray, train_goals: list[Labels], test: np.ndarray, k: int = 5, cut: float = 0.4) -> list[Labels]:
    """Similarity-weighted vote of the k most similar training sub-measures; the top goal always passes."""
    result = []
    for sims in test @ train.T:
        top = np.argsort(-sims)[:k]
        votes: Counter[tuple[str, str]] = Counter()
        for index in top:
            for goal in train_goals[index]:
                votes[goal] += float(sims[index])
        total = float(sims[top].sum())
        ranked = votes.most_common()
        result.append({g for g, v in ranked if v / total >= cut} | {ranked[0][0]} if ranked else set())
    return result


def horizon_topics(corpora: Path, truth_of: MissionClassifier, limit: int) -> tuple[list[Document], list[Labels]]:
    """Horizon topics whose call identifier names a cluster or mission, stripped of the codes that give it away."""
    path = corpora / "eu-funding-tenders/topics.json"
    spec = SourceSpec(name="eu-topics", kind="eu_topics", files={"topics": str(path)})
    topics = [
        d
        for d in EuTopicsConnector(spec, {"topics": path}).run().documents
        if str(d.metadata.get("call_identifier") or "").startswith("HORIZON")
    ]
    truths = [labels(truth_of.run(d)) for d in topics]
    kept = [(d, t) for d, t in zip(topics, truths, strict=True) if any(f == "horizon" for f, _ in t)]
    kept = kept[:limit] if limit else kept
    return [d for d, _ in kept], [t for _, t in kept]


def call_of(document: Document) -> str:
    """A topic's call ("HORIZON-CL5-2024-D3-01"): its topics share text and labels, so they vote as one group."""
    return str(document.metadata.get("call_identifier") or document.id).rsplit("-", 1)[0]


def incentives(corpora: Path, truth_of: MissionClassifier) -> tuple[list[Document], list[Labels]]:
    """The catalogue's incentives with the labels their official objectives give (through the crosswalk)."""
    (spec,) = select_sources(load_sources(), ["incentivi-gov"])
    files = SourceResolver(corpora, corpora / ".nonexistent-cache", allow_download=False).resolve(spec)
    documents = build_connector(spec, files).run().documents
    truths = [labels(truth_of.run(d)) for d in documents]
    kept = [(d, t) for d, t in zip(documents, truths, strict=True) if t]
    return [dataclasses.replace(d, metadata={}) for d, _ in kept], [t for _, t in kept]


def funded_projects(corpora: Path, per_measure: int, seed: int) -> pd.DataFrame:
    """Up to ``per_measure`` funded projects per sub-measure (title and synthesis), seeded."""
    columns = ["CUP", "Codice Univoco Submisura", "Titolo progetto", "Sintesi progetto"]
    frame = pd.read_parquet(corpora / "italia-domani/PNRR_Progetti_validati.parquet", columns=columns)
    frame = frame.dropna(subset=["Codice Univoco Submisura", "Titolo progetto"]).drop_duplicates("CUP")
    frame["text"] = (frame["Titolo progetto"] + " - " + frame["Sintesi progetto"].fillna("")).str.slice(0, 1000)
    frame = frame.drop_duplicates("text").sample(frac=1.0, random_state=seed)
    return frame.groupby("Codice Univoco Submisura").head(per_measure).reset_index(drop=True)


def submeasure_labels(truth_of: MissionClassifier, code: str) -> Labels:
    document = Document(id=f"bench:{code}", source="bench", type=DocType.PROJECT, title=code,
                        sections=[Section(text=code)], metadata={"submeasure_code": code})
    return labels(truth_of.run(document))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holdout", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--topics", type=int, default=0, help="EU topics to use (0: all Horizon topics)")
    parser.add_argument("--chunks", type=int, default=6, help="passages per EU topic that are embedded")
    parser.add_argument("--cache", type=Path, default=None, help="keep passage vectors here between runs")
    parser.add_argument("--null-sigmas", type=float, default=None, help="override the classifier's default")
    parser.add_argument("--projects", type=int, default=25, help="funded projects per sub-measure that vote")
    parser.add_argument("--k", type=int, default=10, help="neighbours that vote")
    args = parser.parse_args()
    started = time.perf_counter()
    data = DataSettings()
    embedder = create_embedder(EmbeddingSettings(), data)
    cache = CachedEmbedder(embedder, args.cache)
    taxonomy = Taxonomy.load()
    mapping = read_sdg_mapping(data.corpora_dir / SDG_MAPPING_FILE)
    options = {} if args.null_sigmas is None else {"null_sigmas": args.null_sigmas}
    truth_of = MissionClassifier(taxonomy, None, mapping, model_frameworks=())
    cues = MissionClassifier(taxonomy, None, None)
    model = MissionClassifier(taxonomy, embedder, None, cues=cues.cues, **options)

    # --- the labelled examples that vote: funded projects, incentives, Horizon topics (embedded once) ---------
    quadro = quadro_items(data.corpora_dir)
    truths = [labels(truth_of.run(official_document(row))) for _, row in quadro.iterrows()]
    projects = funded_projects(data.corpora_dir, args.projects, args.seed)
    by_code = {c: submeasure_labels(truth_of, c) for c in projects["Codice Univoco Submisura"].unique()}
    project_codes = list(projects["Codice Univoco Submisura"])
    project_vectors = cache.passages(list(projects["text"]))
    project_truths = [by_code[c] for c in project_codes]
    shops, shop_truths = incentives(data.corpora_dir, truth_of)
    shop_texts = [f"{d.title}\n{d.text}"[:1500] for d in shops]
    shop_vectors = cache.passages(shop_texts)
    topics, eu_truths = horizon_topics(data.corpora_dir, truth_of, args.topics)
    chunker = Chunker()
    plain = [dataclasses.replace(d, metadata={}, language="en") for d in topics]
    passages = [[embedding_text(d, c) for c in chunker.run(d)][: args.chunks] for d in plain]
    flat = cache.passages([p for group in passages for p in group])
    bounds = np.cumsum([0] + [len(group) for group in passages])
    topic_vectors = [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    topic_means = np.stack([v.mean(axis=0) for v in topic_vectors])
    topic_calls = [call_of(d) for d in topics]

    def pool(*, descriptions: tuple[np.ndarray, list[Labels], list[str]] | None = None,
             keep_projects: np.ndarray | None = None) -> Examples:
        examples = Examples()
        chosen = np.ones(len(projects), dtype=bool) if keep_projects is None else keep_projects
        examples.add(project_vectors[chosen], [t for t, c in zip(project_truths, chosen, strict=True) if c],
                     [c for c, k in zip(project_codes, chosen, strict=True) if k])
        examples.add(shop_vectors, shop_truths, [d.id for d in shops])
        examples.add(topic_means, eu_truths, topic_calls)
        if descriptions is not None:
            examples.add(*descriptions)
        return examples

    def calibrated(examples: Examples, calibration: Examples) -> Vote:
        """A vote over ``examples`` with the cuts calibrated on ``calibration`` (which holds no scored item)."""
        vote, tuner = Vote(examples, args.k), Vote(calibration, args.k)
        vote.cuts.update(tuner.calibrate(seed=args.seed))
        return vote

    base_vote = calibrated(pool(), pool())
    print("vote cuts per framework (calibrated on the examples):",
          ", ".join(f"{h} {c:.2f}" for h, c in sorted(base_vote.cuts.items())))

    # --- PNRR sub-measures: convergenze, PNRR and cohesion from text; truth from the codes ---------------------
    codes = list(quadro["Codice Univoco Submisura"])
    predictions: dict[str, dict[str, list[Labels]]] = {}
    for variant in ("full", "bare"):
        texts = list(quadro[variant])
        documents = [text_document(str(i), t) for i, t in enumerate(texts)]
        vectors = cache.passages(texts)
        # Each sub-measure is labelled by the others' descriptions and projects, never by its own.
        vote = calibrated(pool(descriptions=(vectors, truths, codes)), pool())
        voted = [vote.predict(vectors[i], codes[i]) for i in range(len(texts))]
        predictions[variant] = {
            "cues (baseline)": predict(cues, documents, [None] * len(texts), [None] * len(texts)),
            "embeddings + cues (current)": predict(
                model, documents, [vectors[i : i + 1] for i in range(len(texts))], [[t] for t in texts]
            ),
            "vote (other sub-measures)": voted,
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
    # The held-out sub-measures' projects do not vote either: they carry their sub-measure's goals.
    held = set(mapped["Codice Univoco Submisura"].iloc[test])
    outside = np.array([c not in held for c in project_codes])
    train_codes = [str(mapped["Codice Univoco Submisura"].iloc[i]) for i in train]
    sdg_vote = calibrated(pool(descriptions=(vectors[train], [goals[i] for i in train], train_codes),
                               keep_projects=outside), pool(keep_projects=outside))
    rows_sdg = {
        "cues (baseline)": predict(cues, test_docs, [None] * len(test), [None] * len(test)),
        "prior (commonest goal)": [{commonest} for _ in test],
        "embeddings + cues (current)": predict(model, test_docs, [vectors[i : i + 1] for i in test],
                                               [[texts[i]] for i in test]),
        "nearest neighbours (train)": knn(vectors[train], [goals[i] for i in train], vectors[test]),
        "vote (train + their projects)": [sdg_vote.predict(vectors[i], heads=["sdg"]) for i in test],
    }
    print_table(
        f"SDG goals - {len(test)} held-out of {len(mapped)} mapped sub-measures (seed {args.seed})",
        [(m, score(test_truth, p, framework("sdg"))) for m, p in rows_sdg.items()],
    )

    # --- EU topics: Horizon clusters and missions from text; truth from the call identifier --------------------
    topic_voted = [base_vote.predict(topic_means[i], topic_calls[i]) for i in range(len(plain))]
    rows_eu = {
        "cues (baseline)": predict(cues, plain, [None] * len(plain), [None] * len(plain)),
        "embeddings + cues (current)": predict(model, plain, topic_vectors, passages),
        "vote (other calls)": topic_voted,
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
    shop_voted = [base_vote.predict(shop_vectors[i], shops[i].id) for i in range(len(shops))]
    rows_shop = {
        "cues (baseline)": predict(cues, shops, [None] * len(shops), [None] * len(shops)),
        "embeddings + cues (current)": predict(model, shops, [shop_vectors[i : i + 1] for i in range(len(shops))],
                                               [[t] for t in shop_texts]),
        "vote (other incentives)": shop_voted,
    }
    print_table(
        f"convergenze missions - {len(shops)} incentives, text only (truth: official objectives)",
        [(m, score(shop_truths, p, framework("convergenze"))) for m, p in rows_shop.items()],
    )
    print(f"\n{len(projects)} funded projects of {len(by_code)} sub-measures, {len(shops)} incentives and "
          f"{len(topics)} topics vote (k={args.k})")
    print(f"\n{time.perf_counter() - started:.0f} s, {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
