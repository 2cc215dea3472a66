"""The project's fixed vocabularies, written once: records, extractors, matching, the API and the CLI import
them from here. Members are ``StrEnum``s, so each compares equal to its string value (payloads stored in
Qdrant, JSON on the wire and CLI options keep plain strings), and ``Enum(value)`` refuses anything else.

Adding a value here adds it everywhere: request validation, the OpenAPI schema, the CLI's choices and the
records' checks. Patterns that recognise a value in text (extractors) and labels shown to people are keyed
by these members.
"""

from __future__ import annotations

from enum import StrEnum


class DocType(StrEnum):
    CALL = "call"
    MEASURE = "measure"
    PROJECT = "project"
    PROGRAMME = "programme"
    POLICY = "policy"


class SearchMode(StrEnum):
    HYBRID = "hybrid"
    DENSE = "dense"
    SPARSE = "sparse"


class ActorType(StrEnum):
    """Who applies, issues or implements: the types calls' beneficiaries and the catalog's actors map onto."""

    PUBLIC_BODY = "public_body"
    PUBLIC_ADMINISTRATION = "public_administration"
    COOPERATIVE = "cooperative"
    FOUNDATION = "foundation"
    THIRD_SECTOR = "third_sector"
    COMPANY = "company"
    FINANCIAL_INSTITUTION = "financial_institution"
    UNIVERSITY_RESEARCH = "university_research"
    CITIZEN = "citizen"

    @property
    def label(self) -> str:
        """The plural phrase the API's reasons use ("Open to foundations.")."""
        return _ACTOR_LABELS[self]


_ACTOR_LABELS = {
    ActorType.PUBLIC_BODY: "public bodies",
    ActorType.PUBLIC_ADMINISTRATION: "public administrations",
    ActorType.COOPERATIVE: "cooperatives",
    ActorType.FOUNDATION: "foundations",
    ActorType.THIRD_SECTOR: "third-sector bodies",
    ActorType.COMPANY: "companies and SMEs",
    ActorType.FINANCIAL_INSTITUTION: "financial institutions",
    ActorType.UNIVERSITY_RESEARCH: "universities and research bodies",
    ActorType.CITIZEN: "citizens",
}


class MissionFramework(StrEnum):
    """Ordered as documents list their labels: Convergenze's own missions first."""

    CONVERGENZE = "convergenze"
    PNRR = "pnrr"
    SDG = "sdg"
    COHESION = "cohesion"
    HORIZON = "horizon"


class LabelSource(StrEnum):
    """Where a mission label comes from, ordered by trust: the source's official codes, the official PNRR->SDG
    mapping, a crosswalk from either, then the text-only estimates (a vote of the nearest officially labelled
    examples, embedding prototypes, cue terms)."""

    OFFICIAL = "official"
    MAPPING = "mapping"
    CROSSWALK = "crosswalk"
    EXAMPLES = "examples"
    MODEL = "model"
    CUES = "cues"


class CallStatus(StrEnum):
    OPEN = "open"
    FORTHCOMING = "forthcoming"
    CLOSED = "closed"
    UNKNOWN = "unknown"
    # Set by change detection when a complete listing no longer has the notice; never extracted from text.
    WITHDRAWN = "withdrawn"


class DateKind(StrEnum):
    OPENING = "opening"
    DEADLINE = "deadline"
    OTHER = "other"


class AmountKind(StrEnum):
    TOTAL_BUDGET = "total_budget"
    MAX_PER_PROJECT = "max_per_project"
    MIN_PER_PROJECT = "min_per_project"
    OTHER = "other"


class PlaceLevel(StrEnum):
    REGION = "region"
    PROVINCE = "province"
    MUNICIPALITY = "municipality"
    NATIONAL = "national"
    EU = "eu"


class SupportForm(StrEnum):
    """How a call supports its beneficiaries."""

    GRANT = "grant"
    LOAN = "loan"
    GUARANTEE = "guarantee"
    EQUITY = "equity"
    TAX_RELIEF = "tax_relief"
    SOCIAL_SECURITY_RELIEF = "social_security_relief"


class FirmSize(StrEnum):
    """Firm sizes as the EU SME definition (Recommendation 2003/361/EC) draws them."""

    MICRO = "micro"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


class NonCallKind(StrEnum):
    """What a document is when its own text says it is not a funding call: shown as such in search, never
    offered as a call by match or overlaps."""

    RECRUITMENT = "recruitment"
    CIRCULAR = "circular"
    PRESENTATION = "presentation"
    AMENDMENT = "amendment"
    RANKING = "ranking"
    PROCUREMENT = "procurement"
    OTHER = "other"


class Criterion(StrEnum):
    """The eligibility criteria a call is judged on for a profile, in the order they are shown."""

    STATUS = "status"
    TERRITORY = "territory"
    BENEFICIARY = "beneficiary"
    BUDGET = "budget"


class Verdict(StrEnum):
    """One criterion's answer: ``no`` only when the call says something that excludes the profile."""

    OK = "ok"
    NO = "no"
    UNKNOWN = "unknown"


class Eligibility(StrEnum):
    """A call overall: ``ineligible`` when a criterion is ``no``, ``eligible`` when all are ``ok``."""

    ELIGIBLE = "eligible"
    POSSIBLE = "possible"
    INELIGIBLE = "ineligible"


class IneligiblePolicy(StrEnum):
    """What match does with ineligible calls: rank them below the others, leave them out, or keep their place."""

    DEMOTE = "demote"
    EXCLUDE = "exclude"
    KEEP = "keep"


class Relation(StrEnum):
    OVERLAP = "overlap"
    COMPLEMENT = "complement"


class Lever(StrEnum):
    """What an initiative does with its money (overlaps compare them)."""

    FUNDING = "funding"
    SERVICES = "services"
    CAPACITY_BUILDING = "capacity_building"
    INFRASTRUCTURE = "infrastructure"
    RESEARCH = "research"

    @property
    def label(self) -> str:
        """The phrase overlap reasons use ("through capacity building")."""
        return _LEVER_LABELS[self]


_LEVER_LABELS = {
    Lever.FUNDING: "funding",
    Lever.SERVICES: "services",
    Lever.CAPACITY_BUILDING: "capacity building",
    Lever.INFRASTRUCTURE: "infrastructure and works",
    Lever.RESEARCH: "research and innovation",
}


class TextSource(StrEnum):
    """Where the text of a match or overlaps request came from."""

    TEXT = "text"
    PDF = "pdf"
    DOCX = "docx"
    TXT = "txt"


class ExportFormat(StrEnum):
    """How tables are handed out (the mission map, exports of results)."""

    JSON = "json"
    CSV = "csv"


class EmbedBackend(StrEnum):
    """What runs the default embedding model: PyTorch (float32, the reference), or its int8 export run by
    ONNX Runtime or OpenVINO (built by ``convergenze setup-model``)."""

    TORCH = "torch"
    ONNX = "onnx"
    OPENVINO = "openvino"


class Role(StrEnum):
    """What an API key may do; each role includes the ones before it."""

    READER = "reader"  # public data, when anonymous reading is off
    EDITOR = "editor"  # its own alerts, adding documents
    ADMIN = "admin"  # keys, ingestion, everyone's alerts

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def includes(self, other: Role) -> bool:
        return self.rank >= other.rank
