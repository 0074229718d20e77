"""Django loads an app's models from `<app>.models`: each room's tables are imported here so they
register. Code imports a model from the room that owns it (articles.content.models,
articles.reading.models), never from here."""

from .content import models as content_models  # noqa: F401
from .reading import models as reading_models  # noqa: F401
