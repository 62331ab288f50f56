"""Field types of the public API's JSON bodies: strict where JSON's loose typing would hide a client's mistake.

JSON bodies take numbers as numbers and booleans as booleans (`"speed": true` is not 1.0, `false` is not 0);
integers stay within what SQL stores; credit amounts within what 64-bit micro-credits hold.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

INT32_MAX = 2**31 - 1
MAX_CREDITS = Decimal(10) ** 12  # 10^18 micro-credits: far inside a 64-bit balance


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected a number, not a boolean")
    return value


def _finite(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("expected a finite number")
    return value


StrictNumber = Annotated[float, BeforeValidator(_no_bool), Field(allow_inf_nan=False)]
StrictCount = Annotated[int, Field(strict=True, ge=0, le=INT32_MAX)]
StrictBool = Annotated[bool, Field(strict=True)]
CreditAmount = Annotated[
    Decimal, BeforeValidator(_no_bool), AfterValidator(_finite), Field(ge=-MAX_CREDITS, le=MAX_CREDITS)
]
