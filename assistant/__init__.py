"""Answers residents' questions from the council's privacy notices, quoting them word for word."""

from assistant.models import Answer, Citation, Notice, Passage, Retrieved
from assistant.settings import Settings, get_settings


def __getattr__(name: str):  # noqa: ANN202
    # Imported lazily so `import assistant` stays light for the CLI and the settings.
    if name == "Assistant":
        from assistant.pipeline import Assistant

        return Assistant
    raise AttributeError(name)


__all__ = ["Answer", "Assistant", "Citation", "Notice", "Passage", "Retrieved", "Settings", "get_settings"]
