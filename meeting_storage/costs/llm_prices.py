"""What the tokens of a model on an OpenAI-compatible server cost, where a price is known.

Only OpenAI's own models have a public list price (USD per million tokens, input and
output). A model you run yourself (Ollama, vLLM, llama.cpp, LM Studio) costs nothing per
token, and a hosted model we have no price for is recorded with its tokens and a cost of 0,
with a note saying so. Bedrock models are priced from the Bedrock price table instead
(pricing.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class TokenPrice:
    input_per_million: Decimal
    output_per_million: Decimal

    def cost(self, input_tokens: int, output_tokens: int) -> Decimal:
        return (
            input_tokens * self.input_per_million + output_tokens * self.output_per_million
        ) / MILLION


# OpenAI list prices (standard tier), USD per million input / output tokens.
OPENAI_PRICES: dict[str, TokenPrice] = {
    "gpt-4o": TokenPrice(Decimal("2.50"), Decimal("10.00")),
    "gpt-4o-mini": TokenPrice(Decimal("0.15"), Decimal("0.60")),
    "gpt-4.1": TokenPrice(Decimal("2.00"), Decimal("8.00")),
    "gpt-4.1-mini": TokenPrice(Decimal("0.40"), Decimal("1.60")),
    "gpt-4.1-nano": TokenPrice(Decimal("0.10"), Decimal("0.40")),
}


def openai_price(model: str) -> TokenPrice | None:
    """The price of `model`, also when dated ("gpt-4o-mini-2024-07-18"); None when unknown."""
    name = model.strip().lower()
    if name in OPENAI_PRICES:
        return OPENAI_PRICES[name]
    # The longest known name the model's name starts with, followed by a date.
    for known in sorted(OPENAI_PRICES, key=len, reverse=True):
        rest = name[len(known) :]
        if name.startswith(known) and rest[:1] == "-" and rest[1:5].isdigit():
            return OPENAI_PRICES[known]
    return None
