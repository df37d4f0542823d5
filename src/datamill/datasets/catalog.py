"""Datasets as catalogue entries: lookup, listing, metadata and sharing, deletion.

Repository functions take the session and flush; the route commits.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datamill.auth.permissions import readable_by
from datamill.auth.users import get_by_username
from datamill.config import Settings
from datamill.db.models import Dataset, DatasetShare, User, utcnow
from datamill.problems import Invalid, field_error
from datamill.schemas.datasets import DatasetUpdate, Sharing
from datamill.storage.files import check_id, resolve_inside


def get_dataset(db: Session, dataset_id: str) -> Dataset | None:
    return db.get(Dataset, dataset_id)


def list_datasets(
    db: Session, user: User, offset: int, limit: int, search: str | None = None
) -> tuple[Sequence[Dataset], int]:
    """The datasets ``user`` may read, most recently changed first."""
    where = [readable_by(user)]
    if search:
        where.append(func.lower(Dataset.name).contains(search.lower(), autoescape=True))
    total = db.scalar(select(func.count()).select_from(Dataset).where(*where)) or 0
    query = select(Dataset).where(*where).order_by(Dataset.updated_at.desc(), Dataset.id)
    return db.scalars(query.offset(offset).limit(limit)).unique().all(), total


def update_dataset(db: Session, dataset: Dataset, update: DatasetUpdate) -> None:
    """Apply only the fields that were sent (the schema refuses nulls and blank names)."""
    if update.name is not None:
        dataset.name = update.name
    if update.description is not None:
        dataset.description = update.description
    if update.metadata is not None:
        dataset.meta = update.metadata
    if update.sharing is not None:
        _set_sharing(db, dataset, update.sharing)
    dataset.updated_at = utcnow()
    db.flush()


def _set_sharing(db: Session, dataset: Dataset, sharing: Sharing) -> None:
    users: list[User] = []
    unknown: list[int] = []
    for index, username in enumerate(sharing.users):
        user = get_by_username(db, username)
        if user is None:
            unknown.append(index)
        elif user.id != dataset.owner_id and user not in users:
            users.append(user)
    if unknown:
        names = ", ".join(repr(sharing.users[i]) for i in unknown)
        raise Invalid(
            f"There is no user named {names}.",
            errors=[field_error(["body", "sharing", "users", i], "unknown user") for i in unknown],
        )
    dataset.shared_with_everyone = sharing.everyone
    dataset.shares = [DatasetShare(dataset_id=dataset.id, user_id=u.id) for u in users]


def sharing_of(dataset: Dataset) -> Sharing:
    return Sharing(
        everyone=dataset.shared_with_everyone,
        users=sorted(share.user.username for share in dataset.shares),
    )


def delete_dataset(db: Session, dataset: Dataset) -> None:
    db.delete(dataset)
    db.flush()


def remove_dataset_files(settings: Settings, dataset_id: str) -> None:
    """Delete a dataset's revision files; called after its rows are gone (the sweep retries)."""
    directory = resolve_inside(settings.revisions_dir, check_id(dataset_id))
    shutil.rmtree(directory, ignore_errors=True)
