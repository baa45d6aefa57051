"""Request and response bodies of the HTTP API (pydantic models, shown in the OpenAPI docs).

Each request field is independent of the others and every response row is a model of its own,
so a new option (say, a cost matrix and the cost-optimal label) is one more optional field
here and one more step where the rows are built (``_app._rows``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StrictStr

__all__ = ["PredictRequest", "Prediction", "PredictResponse", "Health", "ErrorBody", "Probability"]

# strict: "0.5" or true is not a probability; finite: JSON from Python may carry NaN or Infinity.
Probability = Annotated[float, Field(strict=True, allow_inf_nan=False)]
PriorKeyword = Literal["true", "raw", "estimate"]

_PRIOR_DOC = (
    '"true" (default): corrected to the training prior, estimating real-world frequencies; "raw": as the '
    'technique trained them; {"spam": 0.02, "ham": 0.98}: corrected to that deployment prior (a distribution; '
    "one label may be left out: it gets the rest); \"estimate\": corrected to the live estimate of the prior of "
    "the server's recent traffic (GET /prior)."
)
_COSTS_DOC = (
    'what an error costs, for the cost-optimal label: "fn=10,fp=1[,positive=spam]", {"fn": 10, "fp": 1} or '
    '{"matrix": [[0, 1], [10, 0]], "labels": ["ham", "spam"]} (true × predicted); default: the costs stored with '
    "the model (train --costs), if any."
)
_DEPLOY_DOC = (
    'the class mix in production the cost-optimal label is decided at: "spam=0.02" or {"spam": 0.02}; default: '
    "the one stored with the model, else the training prior."
)


class PredictRequest(BaseModel):
    """Texts to classify, and which prior their probabilities refer to."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"texts": ["WINNER!! Claim your free prize now", "Ok see you at home for dinner"],
                      "prior": "true"}],
    })

    texts: list[StrictStr] = Field(min_length=1, description="the texts, at least one")
    prior: Union[PriorKeyword, dict[str, Probability]] = Field(default="true", description=_PRIOR_DOC)
    costs: Union[StrictStr, dict[str, Any], None] = Field(default=None, description=_COSTS_DOC)
    deploy_prior: Union[StrictStr, dict[str, Probability], None] = Field(default=None, description=_DEPLOY_DOC)


class Prediction(BaseModel):
    """One text's decision and probabilities."""

    label: str = Field(description="the model's decision, its tuned thresholds applied (as TrainedModel.predict); "
                                   "independent of the requested prior")
    probabilities: dict[str, float] = Field(description="per label, under the requested prior "
                                                        "(as TrainedModel.predict_proba)")
    cost_label: str | None = Field(default=None, description="the label of least expected cost (Elkan 2001) at the "
                                   "deployment prior, when costs or a deployment prior are given or stored")
    expected_cost: float | None = Field(default=None, description="the expected cost of cost_label, in the costs' units")


class PredictResponse(BaseModel):
    """One prediction per text, in request order."""

    predictions: list[Prediction]
    truncated: list[int] = Field(default_factory=list,
                                 description="indices of texts cut to the server's max_chars before prediction")


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class ErrorBody(BaseModel):
    """Every 4xx and 5xx answer: one sentence."""

    detail: str


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries saying these status codes answer with :class:`ErrorBody`."""
    return {code: {"model": ErrorBody} for code in codes}
