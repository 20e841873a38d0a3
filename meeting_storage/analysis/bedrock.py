"""Amazon Bedrock as a transport of the language-model extractor (llm.py): the Converse API.

Prompt, chunking, map-reduce, the JSON contract, retries, grounding and the rule-based
fallback are llm.py's, shared with the OpenAI-compatible transport (llm_openai.py). Here a
prompt becomes one Converse call, the answer's text and token usage come back, and Bedrock's
errors become sentences that say what to do: throttling and an overloaded model are retried,
access denied or an unknown model are not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from meeting_storage.analysis.extract import METHOD_BEDROCK, Extractor
from meeting_storage.analysis.llm import (
    DEFAULT_ATTEMPTS,
    DEFAULT_CHUNK_CHARS,
    MAX_OUTPUT_TOKENS,
    SYSTEM_PROMPT,
    Answer,
    ContractError,
    LlmExtractor,
    ModelCallError,
    Outcome,
    TransientModelError,
    chunk_transcript,
    parse_json_answer,
    validate_outcome,
)
from meeting_storage.core.errors import client_error_code
from meeting_storage.core.retry import Backoff
from meeting_storage.storage.aws import AWS_ERRORS

BEDROCK_ACTION = "bedrock:InvokeModel"
# Errors that pass with time: worth another try after a wait.
TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "ServiceUnavailableException",
        "ModelNotReadyException",
        "InternalServerException",
    }
)

__all__ = [
    "SYSTEM_PROMPT",
    "BedrockExtractor",
    "BedrockTransport",
    "ContractError",
    "Outcome",
    "chunk_transcript",
    "failure_reason",
    "parse_json_answer",
    "validate_outcome",
]


class BedrockTransport:
    """One Converse call per prompt."""

    method = METHOD_BEDROCK

    def __init__(self, client: Any, model_id: str) -> None:
        self._client = client
        self.model_id = model_id

    @property
    def label(self) -> str:
        return f"Amazon Bedrock ({self.model_id})"

    def complete(self, system: str, prompt: str, max_tokens: int) -> Answer:
        try:
            response = self._client.converse(
                modelId=self.model_id,
                system=[{"text": system}],
                messages=[{"role": "user", "content": [{"text": prompt}]}],
                inferenceConfig={"maxTokens": max_tokens, "temperature": 0.0},
            )
        except AWS_ERRORS as exc:
            reason = failure_reason(exc)
            if client_error_code(exc) in TRANSIENT_CODES:
                raise TransientModelError(reason) from exc
            raise ModelCallError(reason) from exc
        usage = response.get("usage") or {}
        content = response.get("output", {}).get("message", {}).get("content", [])
        return Answer(
            text="".join(part.get("text", "") for part in content if isinstance(part, dict)),
            input_tokens=int(usage.get("inputTokens") or 0),
            output_tokens=int(usage.get("outputTokens") or 0),
            truncated=response.get("stopReason") == "max_tokens",
        )


class BedrockExtractor(LlmExtractor):
    """Extraction with a Bedrock model through the Converse API, with a rule-based fallback."""

    def __init__(
        self,
        client: Any,
        model_id: str,
        *,
        fallback: Extractor | None = None,
        chunk_chars: int = DEFAULT_CHUNK_CHARS,
        max_tokens: int = MAX_OUTPUT_TOKENS,
        attempts: int = DEFAULT_ATTEMPTS,
        backoff: Backoff | None = None,
        sections: Sequence[str] = (),
    ) -> None:
        self._transport = BedrockTransport(client, model_id)
        super().__init__(
            self._transport,
            fallback=fallback,
            chunk_chars=chunk_chars,
            max_tokens=max_tokens,
            attempts=attempts,
            backoff=backoff,
            sections=sections,
        )

    @property
    def _client(self) -> Any:
        return self._transport._client


def failure_reason(exc: BaseException) -> str:
    """One sentence for the user: why Bedrock did not answer."""
    code = client_error_code(exc)
    if code == "ThrottlingException":
        return "Bedrock is throttling requests (ThrottlingException); try again later."
    if code in {"AccessDeniedException", "UnrecognizedClientException"}:
        return (
            f"access denied ({code}): the credentials need {BEDROCK_ACTION} on the model's ARN, "
            "and the model must be enabled under Model access in the Bedrock console."
        )
    if code == "ResourceNotFoundException":
        return "the model was not found: check BEDROCK_MODEL_ID and BEDROCK_REGION."
    if code in {"ValidationException", "ModelErrorException", "ModelNotReadyException"}:
        return f"the model refused the request ({code}: {_client_message(exc)})."
    if code:
        return f"Bedrock answered {code}: {_client_message(exc)}."
    from botocore.exceptions import BotoCoreError, NoCredentialsError

    if isinstance(exc, NoCredentialsError):
        return "no AWS credentials were found (set AWS_PROFILE or keys)."
    if isinstance(exc, BotoCoreError):
        return f"Bedrock could not be reached ({exc})."
    return f"unexpected error ({type(exc).__name__}: {exc})."


def _client_message(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Message", "")) or str(exc)
