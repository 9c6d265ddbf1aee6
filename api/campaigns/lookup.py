"""The campaign refusals, and finding one campaign (shared by the verbs and the tracking)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api import errors
from api.campaigns.models import Campaign


class CampaignError(errors.Invalid):
    """A campaign request that cannot be honoured; nothing was changed (422)."""


class CampaignNotFound(CampaignError, errors.NotFound, LookupError):
    """No such campaign."""

    status_code = 404


class CampaignConflict(CampaignError, errors.Conflict):
    """The campaign's state does not allow this (paused, cancelled, already sending...)."""

    status_code = 409


class NoRecipients(CampaignConflict):
    """The campaign's filters select nobody: sending it would do nothing, silently."""


def campaign(session: Session, campaign_id: int) -> Campaign:
    """The campaign, or CampaignNotFound."""
    found = session.get(Campaign, campaign_id)
    if found is None:
        raise CampaignNotFound(f"no campaign {campaign_id}")
    return found
