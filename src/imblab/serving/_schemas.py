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
PriorKeyword = Literal["true", "raw"]

_PRIOR_DOC = (
    '"true" (default): corrected to the training prior, estimating real-world frequencies; "raw": as the '
    'technique trained them; {"spam": 0.02, "ham": 0.98}: corrected to that deployment prior (every label, '
    "positive values, normalised)."
)


class PredictRequest(BaseModel):
    """Texts to classify, and which prior their probabilities refer to."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"texts": ["WINNER!! Claim your free prize now", "Ok see you at home for dinner"],
                      "prior": "true"}],
    })

    texts: list[StrictStr] = Field(min_length=1, description="the texts, at least one")
    prior: Union[PriorKeyword, dict[str, Probability]] = Field(default="true", description=_PRIOR_DOC)


class Prediction(BaseModel):
    """One text's decision and probabilities."""

    label: str = Field(description="the model's decision, its tuned thresholds applied (as TrainedModel.predict); "
                                   "independent of the requested prior")
    probabilities: dict[str, float] = Field(description="per label, under the requested prior "
                                                        "(as TrainedModel.predict_proba)")


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
