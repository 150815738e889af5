"""User-facing errors of the compute core.

Every problem a user can cause (a bad slider value, a broken photo, a wrong
weights file) is raised as an :class:`ExplainerError`. It carries a locale
key and the values to fill in, so the app can show it in the user's
language and the command line can print it as one ``error: ...`` line.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any, Callable

#: Message parameters that may hold a path on the server. :meth:`ExplainerError.public_message` shows only
#: their last part, so students never see the server's folders; the command line prints them in full.
PATH_PARAMS = ("file", "dir", "path", "cache")


def _public(key: str, value: Any, escape: Callable[[str], str] | None = None) -> Any:
    text = str(value)
    if key not in PATH_PARAMS or text.startswith("$") or ("/" not in text and "\\" not in text):
        return escape(text) if escape is not None and isinstance(value, str) else value
    name = PurePath(text).name or text
    if escape is not None:
        return escape(name)
    return f"`{name}`" if key == "dir" else name


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

    def public_message(self, lang: str = "en") -> str:
        """The message as the app shows it: file and folder names without the server's absolute paths."""
        from explainer.i18n import t

        return t(f"errors.{self.key}", lang, **{k: _public(k, v) for k, v in self.params.items()})

    def markdown_message(self, lang: str = "en") -> str:
        """:meth:`public_message` for a Markdown element (``st.error``): every text value (a file, class or
        folder name that came from a user) shown literally, control characters removed, at most 80 characters."""
        from explainer.i18n import t
        from explainer.safe_text import markdown_text

        return t(f"errors.{self.key}", lang, **{k: _public(k, v, markdown_text) for k, v in self.params.items()})


class InvalidInputError(ExplainerError):
    """A size, count or option outside what the explainer accepts."""


class ImageError(ExplainerError):
    """An upload or file that is not a usable photo."""


class WeightsError(ExplainerError):
    """Model weights that are missing, corrupt or do not fit the model."""


class AssetError(ExplainerError):
    """A model file or data set (a record of :mod:`explainer.catalogue`) that is missing, unreachable or damaged."""
