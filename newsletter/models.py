"""Django loads an app's models from `<app>.models`: each room's tables are imported here so they
register. Code imports a model from the room that owns it
(newsletter.editions.models, newsletter.subscribers.models, newsletter.delivery.models,
newsletter.analytics.models, newsletter.personal.models), never from here."""

from .alerts import models as alerts_models  # noqa: F401
from .analytics import models as analytics_models  # noqa: F401
from .delivery import models as delivery_models  # noqa: F401
from .editions import models as editions_models  # noqa: F401
from .personal import models as personal_models  # noqa: F401
from .subscribers import models as subscribers_models  # noqa: F401
