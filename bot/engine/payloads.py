"""Button payloads: small typed records packed into Telegram's 64-byte callback data.

The same idea as aiogram's callback-data factory, kept in the core so that the core needs no
messenger library (importing aiogram costs seconds, which every CLI command would pay).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.storage.integers import BIGINT_MAX, BIGINT_MIN, INTEGER_MAX

MAX_BYTES = 64
SEPARATOR = ":"
# A row's id: the tables' keys are INTEGERs, 32 bits on PostgreSQL. A forged payload naming a
# larger one is a stale button, not a query the driver refuses.
RowId = Annotated[int, Field(ge=1, le=INTEGER_MAX)]


class PayloadError(ValueError):
    pass


class Payload(BaseModel):
    """Subclass with a prefix: `class PickOrder(Payload, prefix="o"): order_id: int`."""

    model_config = ConfigDict(frozen=True)
    __prefix__: ClassVar[str]

    def __init_subclass__(cls, prefix: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not prefix or SEPARATOR in prefix:
            raise TypeError(f"{cls.__name__} needs a prefix without {SEPARATOR!r}")
        cls.__prefix__ = prefix

    @model_validator(mode="after")
    def _numbers_fit_the_database(self) -> Self:
        """Any other number a payload carries still meets a BIGINT column or a comparison with
        one; past its range a driver raises OverflowError, which would fail the update."""
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, int) and not BIGINT_MIN <= value <= BIGINT_MAX:
                raise ValueError(f"{name} is out of the database's range")
        return self

    def pack(self) -> str:
        parts = [self.__prefix__]
        for name in type(self).model_fields:
            value = getattr(self, name)
            text = "" if value is None else str(getattr(value, "value", value))
            if SEPARATOR in text:
                raise PayloadError(f"{name}={text!r} contains {SEPARATOR!r}")
            parts.append(text)
        packed = SEPARATOR.join(parts)
        if len(packed.encode()) > MAX_BYTES:
            raise PayloadError(f"{packed!r} is longer than Telegram's {MAX_BYTES} bytes")
        return packed

    @classmethod
    def unpack(cls, packed: str) -> Self:
        prefix, *values = packed.split(SEPARATOR)
        names = list(cls.model_fields)
        if prefix != cls.__prefix__ or len(values) != len(names):
            raise PayloadError(f"{packed!r} is not a {cls.__name__}")
        try:
            return cls.model_validate(
                {n: (v if v != "" else None) for n, v in zip(names, values, strict=True)}
            )
        except ValidationError as error:
            raise PayloadError(str(error)) from error
