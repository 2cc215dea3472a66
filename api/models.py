"""Request and response models, with the limits the API enforces."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from convergenze.records import Hit

DocTypeName = Literal["call", "measure", "project", "programme", "policy"]
ModeName = Literal["hybrid", "dense", "sparse"]
_MATCH_TYPES: tuple[DocTypeName, ...] = ("call", "measure")


class HitOut(BaseModel):
    id: str
    type: str
    title: str
    score: float
    snippet: str
    source: str
    url: str | None = None
    language: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def from_hit(cls, hit: Hit) -> HitOut:
        payload = hit.payload
        return cls(
            id=hit.document_id,
            type=payload.get("type", ""),
            title=payload.get("title", ""),
            score=hit.score,
            snippet=hit.snippet,
            source=payload.get("source", ""),
            url=payload.get("url"),
            language=payload.get("language"),
            metadata=payload.get("metadata") or {},
        )


class HitList(BaseModel):
    data: list[HitOut]
    count: int


class MatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(
        min_length=1, max_length=20_000, description="The project description, Italian or English."
    )
    limit: int = Field(default=10, ge=1, le=100)
    types: list[DocTypeName] = Field(default_factory=lambda: list(_MATCH_TYPES), max_length=5)
    region: str | None = Field(default=None, max_length=60)
    status: Literal["open", "forthcoming", "closed", "unknown"] | None = None
    mode: ModeName = "hybrid"


class Health(BaseModel):
    status: Literal["ok"]
    documents: int
    points: int
    backend: str


class Passage(BaseModel):
    position: int
    heading: str | None = None
    text: str


class DocumentOut(BaseModel):
    id: str
    type: str
    title: str
    source: str
    url: str | None = None
    language: str | None = None
    metadata: dict[str, Any]
    passages: list[Passage]


class ErrorOut(BaseModel):
    detail: str
