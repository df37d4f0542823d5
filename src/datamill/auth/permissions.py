"""Who may do what to a dataset. The API's dependencies call these; nothing else decides access."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select, true

from datamill.db.models import Dataset, DatasetShare, User


def can_read(user: User, dataset: Dataset) -> bool:
    if user.is_admin or dataset.owner_id == user.id or dataset.shared_with_everyone:
        return True
    return any(share.user_id == user.id for share in dataset.shares)


def can_write(user: User, dataset: Dataset) -> bool:
    """Sharing is read-only: only the owner and admins change a dataset."""
    return user.is_admin or dataset.owner_id == user.id


def readable_by(user: User) -> ColumnElement[bool]:
    """A WHERE clause selecting the datasets ``user`` may read, for list queries."""
    if user.is_admin:
        return true()
    shared = select(DatasetShare.dataset_id).where(DatasetShare.user_id == user.id)
    return or_(
        Dataset.owner_id == user.id,
        Dataset.shared_with_everyone.is_(True),
        Dataset.id.in_(shared),
    )
