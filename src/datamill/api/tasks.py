"""Tasks: registered, replaced and deleted by admins (a task is code); read by all signed in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from datamill.api.deps import AdminUser, CurrentUser, SessionDep
from datamill.api.params import Limit, Offset
from datamill.api.specs import SpecText, TaskName, committed, spec_body
from datamill.db.models import Task
from datamill.pipelines import store
from datamill.schemas.common import ListReply
from datamill.schemas.tasks import TaskDetail, TaskPublic

router = APIRouter(prefix="/tasks", tags=["tasks"])

TASK_BODY = spec_body("A task spec (docs/pipelines.md)")


def task_for_read(name: TaskName, _user: CurrentUser, db: SessionDep) -> Task:
    return store.get_task(db, name)


def task_for_write(name: TaskName, _user: AdminUser, db: SessionDep) -> Task:
    return store.get_task(db, name)


TaskForRead = Annotated[Task, Depends(task_for_read)]
TaskForWrite = Annotated[Task, Depends(task_for_write)]


def _public(task: Task) -> TaskPublic:
    return TaskPublic(
        id=task.id,
        name=task.name,
        kind=task.spec["kind"],
        description=task.spec.get("description", ""),
        queue=task.spec.get("queue", "default"),
        spec=task.spec,
        created_by=task.creator.username if task.creator else None,
        created_at=task.created_at,
        updated_at=task.updated_at,
    )


def _detail(task: Task, warnings: list[str] | None = None) -> TaskDetail:
    return TaskDetail(**_public(task).model_dump(), source=task.source, warnings=warnings or [])


@router.post(
    "",
    status_code=201,
    operation_id="create_task",
    summary="Register a task",
    openapi_extra=TASK_BODY,
)
def create(user: AdminUser, text: SpecText, db: SessionDep) -> TaskDetail:
    """Register a task written as YAML or JSON (admins only: a task is code)."""
    with committed(db, "A task of that name was registered at the same moment."):
        task = store.create_task(db, text, user)
    return _detail(task)


@router.get("", operation_id="list_tasks", summary="List tasks")
def list_(
    user: CurrentUser, db: SessionDep, offset: Offset = 0, limit: Limit = 50
) -> ListReply[TaskPublic]:
    """Every registered task, by name."""
    items, total = store.list_tasks(db, offset, limit)
    return ListReply(data=[_public(task) for task in items], count=total)


@router.get("/{name}", operation_id="get_task", summary="Get a task")
def get(task: TaskForRead) -> TaskDetail:
    return _detail(task)


@router.put(
    "/{name}", operation_id="replace_task", summary="Replace a task", openapi_extra=TASK_BODY
)
def replace(task: TaskForWrite, text: SpecText, db: SessionDep) -> TaskDetail:
    """Replace the spec (its name must stay the same). Runs already submitted keep the spec they
    started with; `warnings` lists the pipelines whose latest version no longer checks."""
    warnings = store.replace_task(db, task, text)
    db.commit()
    return _detail(task, warnings)


@router.delete("/{name}", status_code=204, operation_id="delete_task", summary="Delete a task")
def delete(task: TaskForWrite, db: SessionDep) -> None:
    """Delete a task that no pipeline's latest version uses (else 409 naming those pipelines)."""
    store.delete_task(db, task)
    db.commit()
