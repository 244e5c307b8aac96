"""Messages for people that the web layer shows in the page language.

A service raises or returns its Chinese text as a `Text`: a str (so the API, the command line and
the tests see the Chinese), which also keeps its msgid (marked with N_ so the extractor finds it)
and the values filled into it; portal/texts.py translates it for the page. No imports from
the rest of services/, so every service module can use it.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Protocol, overload


def N_(text: str) -> str:
    """Marks a message for translation (the web layer translates it when showing it)."""
    return text


def pgettext(context: str, message: str) -> str:
    """N_ with a context, for a word whose English differs here from elsewhere (the message
    extractor knows this name); the web layer translates it with pgettext(context, message)."""
    return message


def _same(text: str) -> str:
    return text


def _same_in(context: str, text: str) -> str:
    return text


def _shown(value: Any, gettext: Callable[[str], str], pgettext: Callable[[str, str], str]) -> Any:
    if isinstance(value, Text):
        return value.translate(gettext, pgettext)
    if isinstance(value, (list, tuple)):
        return gettext("、").join(str(_shown(v, gettext, pgettext)) for v in value)
    return value


class _TranslateTable(Protocol):
    """What str.translate takes: a table from code points to replacements."""

    def __getitem__(self, key: int, /) -> str | int | None: ...


def _restore(cls: type[Text], value: str, state: dict[str, Any]) -> Text:
    text = str.__new__(cls, value)
    text.__dict__.update(state)
    return text


class Text(str):
    """A message for people: the Chinese text (this str), which also keeps its msgid (marked with
    N_ so the extractor finds it) and the values filled into it, so the web layer can show it in
    the page language with `translate(gettext, pgettext)`. A value that is a Text is translated
    too; a list is joined with "、" (translated); anything else is data and shown as it is."""

    msgid: str
    params: dict[str, Any]
    context: str | None

    def __new__(cls, msgid: str, /, **params: Any) -> Text:
        text = super().__new__(cls, cls._render(msgid, params, _same, _same_in))
        text.msgid, text.params, text.context = msgid, params, None
        return text

    @classmethod
    def in_context(cls, context: str, msgid: str) -> Text:
        """A label marked with pgettext(context, msgid)."""
        text = cls(msgid)
        text.context = context
        return text

    @staticmethod
    def _render(msgid: str, params: dict[str, Any], gettext, pgettext) -> str:
        if not params:
            return msgid
        return msgid % {k: _shown(v, gettext, pgettext) for k, v in params.items()}

    @overload
    def translate(self, table: _TranslateTable, /) -> str: ...

    @overload
    def translate(self, gettext: Callable[[str], str], pgettext: Callable[[str, str], str]) -> str: ...

    def translate(self, gettext: Any, pgettext: Callable[[str, str], str] | None = None) -> str:
        """The text in the page language, given the web layer's gettext and pgettext. Called with
        one table, as on any str, it is str.translate (a Text is still a str)."""
        if pgettext is None:
            return str.translate(self, gettext)
        return self._translated(gettext, pgettext)

    def _translated(self, gettext: Callable[[str], str], pgettext: Callable[[str, str], str]) -> str:
        if not self.msgid:
            return ""
        msgid = pgettext(self.context, self.msgid) if self.context else gettext(self.msgid)
        return self._render(msgid, self.params, gettext, pgettext)

    def __reduce__(self):
        return _restore, (type(self), str(self), dict(self.__dict__))


class Join(Text):
    """Texts or data joined with a separator that is itself translated ("；", "和", …)."""

    items: list[Any]

    def __new__(cls, sep: str, items: Iterable[Any]) -> Join:
        items = list(items)
        text = str.__new__(cls, sep.join(str(i) for i in items))
        text.msgid, text.params, text.context, text.items = sep, {}, None, items
        return text

    def _translated(self, gettext: Callable[[str], str], pgettext: Callable[[str, str], str]) -> str:
        return gettext(self.msgid).join(str(_shown(i, gettext, pgettext)) for i in self.items)
