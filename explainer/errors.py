"""User-facing errors of the compute core.

Every problem a user can cause (a bad slider value, a broken photo, a wrong
weights file) is raised as an :class:`ExplainerError`. It carries a locale
key and the values to fill in, so the app can show it in the user's
language and the command line can print it as one ``error: ...`` line.
"""

from __future__ import annotations

from typing import Any


class ExplainerError(Exception):
    """An error whose message is a translatable sentence for the user.

    ``key`` names a message in ``explainer/locales/*.toml`` (under
    ``[errors]``), ``params`` fills its ``{placeholders}``.
    """

    def __init__(self, key: str, **params: Any) -> None:
        self.key = key
        self.params = params
        super().__init__(self.message("en"))

    def message(self, lang: str = "en") -> str:
        """The one-line message in ``lang``."""
        from explainer.i18n import t

        return t(f"errors.{self.key}", lang, **self.params)


class InvalidInputError(ExplainerError):
    """A size, count or option outside what the explainer accepts."""


class ImageError(ExplainerError):
    """An upload or file that is not a usable photo."""


class WeightsError(ExplainerError):
    """Model weights that are missing, corrupt or do not fit the model."""


class AssetError(ExplainerError):
    """A model file or data set (see :mod:`explainer.assets`) that is missing, unreachable or damaged."""
