"""Any model that speaks the OpenAI chat-completions protocol, as a transport of the
language-model extractor (llm.py): Ollama, vLLM, llama.cpp's server, LM Studio, OpenAI and
Azure OpenAI.

One prompt is one `POST {OPENAI_BASE_URL}/chat/completions` with the system and user
messages, temperature 0, `max_tokens` and `response_format: {"type": "json_object"}` (JSON
mode). A server that refuses JSON mode (HTTP 400 naming response_format) is asked again
without it, and from then on; the prompt asks for JSON anyway. OPENAI_API_KEY, when set, goes in `Authorization: Bearer`
(and in `api-key` for Azure, whose hosts end in .azure.com); local servers need none.

Plain httpx rather than the `openai` package: one request and its errors are all that is
needed, the retries are the core's own (core/retry.py), and nothing else comes along.
HTTP 429 (after the Retry-After it asks for, at most 20 seconds) and 5xx are worth a retry;
a timeout is not (a model too slow once is too slow again); 401/403, 404 and other refusals
say which setting to check.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from meeting_storage.analysis.extract import METHOD_OPENAI
from meeting_storage.analysis.llm import Answer, ModelCallError, TransientModelError

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_TIMEOUT = 120.0
_MESSAGE_CHARS = 200  # of a server's error message, quoted in a note


class OpenAiTransport:
    """One chat-completions request per prompt."""

    method = METHOD_OPENAI

    def __init__(
        self,
        model_id: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.model_id = model_id
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        headers = {"Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
            if (urlsplit(self.base_url).hostname or "").endswith(".azure.com"):
                headers["api-key"] = api_key
        self._http = httpx.Client(headers=headers, timeout=timeout, transport=transport)
        self.json_mode = True

    @property
    def label(self) -> str:
        return f"The model {self.model_id} at {self.base_url}"

    def request_body(self, system: str, prompt: str, max_tokens: int) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model_id,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": prompt},
            ],
            "temperature": 0,
            "max_tokens": max_tokens,
        }
        if self.json_mode:
            body["response_format"] = {"type": "json_object"}
        return body

    def complete(self, system: str, prompt: str, max_tokens: int) -> Answer:
        response = self._post(system, prompt, max_tokens)
        if self.json_mode and _refuses_json_mode(response):
            self.json_mode = False
            response = self._post(system, prompt, max_tokens)
        if response.status_code != 200:
            _raise_for(response, self.base_url)
        try:
            data = response.json()
            choice = data["choices"][0]
            text = choice["message"].get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise ModelCallError(
                "the server's reply is not a chat completion (no choices[0].message); check "
                "that OPENAI_BASE_URL ends in /v1."
            ) from exc
        usage = data.get("usage") or {}
        return Answer(
            text=str(text),
            input_tokens=_count(usage.get("prompt_tokens")),
            output_tokens=_count(usage.get("completion_tokens")),
            truncated=choice.get("finish_reason") == "length",
        )

    def _post(self, system: str, prompt: str, max_tokens: int) -> httpx.Response:
        url = f"{self.base_url}/chat/completions"
        try:
            return self._http.post(url, json=self.request_body(system, prompt, max_tokens))
        except httpx.TimeoutException as exc:
            raise ModelCallError(
                f"the server did not answer within {self.timeout:g} seconds (raise "
                "OPENAI_TIMEOUT, or use a smaller model)."
            ) from exc
        except httpx.HTTPError as exc:
            raise ModelCallError(
                f"the server at {self.base_url} could not be reached ({exc}); check "
                "OPENAI_BASE_URL and that the server is running."
            ) from exc


def _count(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def _refuses_json_mode(response: httpx.Response) -> bool:
    return response.status_code == 400 and "response_format" in response.text


def _raise_for(response: httpx.Response, base_url: str) -> None:
    status = response.status_code
    message = _error_message(response)
    if status == 429:
        raise TransientModelError(
            f"the server is rate limiting requests (HTTP 429: {message}).",
            retry_after=_retry_after(response),
        )
    if status >= 500:
        raise TransientModelError(f"the server failed (HTTP {status}: {message}).")
    if status in {401, 403}:
        raise ModelCallError(
            f"the server refused the credentials (HTTP {status}: {message}); check OPENAI_API_KEY."
        )
    if status == 404:
        raise ModelCallError(
            f"not found at {base_url} (HTTP 404: {message}); check OPENAI_BASE_URL (it usually "
            "ends in /v1) and OPENAI_MODEL."
        )
    raise ModelCallError(f"the server refused the request (HTTP {status}: {message}).")


def _retry_after(response: httpx.Response) -> float | None:
    """The seconds a Retry-After header asks for (the date form is not used by these servers)."""
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _error_message(response: httpx.Response) -> str:
    """The server's own words: OpenAI's {"error": {"message"}}, or the start of the body."""
    try:
        data = response.json()
    except ValueError:
        return response.text[:_MESSAGE_CHARS].strip() or "no message"
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])[:_MESSAGE_CHARS]
    if isinstance(error, str):
        return error[:_MESSAGE_CHARS]
    return str(data)[:_MESSAGE_CHARS]
