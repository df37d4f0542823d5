"""``WS /api/v1/events``: live events for browsers and clients (protocol in ``docs/events.md``).

The connection is accepted first and then closed with code 4401 when nobody is signed in, so
that a browser, which learns nothing from a refused handshake, can tell "sign in" from "server
down". Credentials are those of the REST API (``deps.optional_user``): an API token in the
``Authorization`` header or, since browsers cannot set headers on a WebSocket, in ``?token=``;
else the session cookie, accepted only from the app's own origin (a page elsewhere must not
listen with the visitor's cookie). They are checked again every minute, so that signing out or
revoking a token also ends the stream.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anyio
from fastapi import APIRouter, WebSocket
from fastapi.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect, WebSocketState

from datamill.api.deps import SESSION_COOKIE, _user_from_token
from datamill.auth.sessions import find_session
from datamill.context import AppContext
from datamill.db.models import User
from datamill.events.access import RunOwners, may_see, may_see_run
from datamill.events.bus import Subscription
from datamill.events.filters import (
    FilterError,
    Filters,
    FollowLog,
    filters_from_query,
    parse_client_message,
)
from datamill.events.logs import step_progress, tail_step_log
from datamill.events.messages import Message, now_iso
from datamill.problems import Unauthorized

log = logging.getLogger("datamill.events")
router = APIRouter(tags=["events"])

NOT_SIGNED_IN = 4401
BAD_FILTERS = 4400
FELL_BEHIND = 1013  # "try again later"
GOING_AWAY = 1001
INTERNAL_ERROR = 1011
MAX_FOLLOWED_LOGS = 20
RECHECK_SECONDS = 60.0
MAX_REASON_BYTES = 123  # what a close frame can carry


@dataclass(frozen=True)
class Credentials:
    token: str | None
    cookie: str | None

    @classmethod
    def of(cls, websocket: WebSocket) -> Credentials | None:
        """The credentials sent, or None for a cookie sent from another site's page."""
        scheme, _, value = websocket.headers.get("authorization", "").partition(" ")
        token = value.strip() if scheme.lower() == "bearer" else None
        token = token or websocket.query_params.get("token") or None
        cookie = websocket.cookies.get(SESSION_COOKIE)
        if token is None and cookie and not _same_origin(websocket):
            return None
        return cls(token, cookie)


def _same_origin(websocket: WebSocket) -> bool:
    origin = websocket.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == websocket.headers.get("host")


def authenticate(ctx: AppContext, credentials: Credentials) -> User | None:
    """The signed-in user the credentials name, or None (unknown, expired, revoked, disabled)."""
    with ctx.sessions() as db:
        user: User | None = None
        if credentials.token is not None:
            with contextlib.suppress(Unauthorized):
                user = _user_from_token(db, ctx, credentials.token)
        elif credentials.cookie is not None:
            session = find_session(db, ctx.secret_key, credentials.cookie)
            user = db.get(User, session.user_id) if session is not None else None
        return None if user is None or user.disabled else user


def run_owners(websocket: WebSocket, ctx: AppContext) -> RunOwners:
    """The app's cache of run owners, shared by all its connections."""
    owners: RunOwners | None = getattr(websocket.app.state, "run_owners", None)
    if owners is None or owners.sessions is not ctx.sessions:
        owners = RunOwners(ctx.sessions)
        websocket.app.state.run_owners = owners
    return owners


@router.websocket("/events", name="events")
async def events(websocket: WebSocket) -> None:
    """Run, step, dataset and worker events as they happen, filtered as the client asks."""
    ctx: AppContext = websocket.app.state.ctx
    await websocket.accept()
    credentials = Credentials.of(websocket)
    if credentials is None:
        await _close(websocket, NOT_SIGNED_IN, "Cookies are accepted from this site only.")
        return
    user = await run_in_threadpool(authenticate, ctx, credentials)
    if user is None:
        await _close(websocket, NOT_SIGNED_IN, "Sign in, or pass an API token as ?token=.")
        return
    stream = EventStream(websocket, ctx, user, credentials, run_owners(websocket, ctx))
    query = {key: websocket.query_params.getlist(key) for key in websocket.query_params}
    try:
        stream.filters = filters_from_query(query)
    except FilterError as error:
        await stream.send_error(str(error))
        await _close(websocket, BAD_FILTERS, f"Bad filter: {error}")
        return
    await stream.serve()


@dataclass(frozen=True)
class Closing:
    code: int
    reason: str


class EventStream:
    """One connection: forwards the bus's events it may see and answers the client's requests."""

    def __init__(
        self,
        websocket: WebSocket,
        ctx: AppContext,
        user: User,
        credentials: Credentials,
        owners: RunOwners,
    ) -> None:
        self.websocket = websocket
        self.ctx = ctx
        self.user = user
        self.credentials = credentials
        self.owners = owners
        self.filters = Filters()
        self._send_lock = anyio.Lock()
        self._logs: dict[tuple[str, str], anyio.CancelScope] = {}
        self._closing: Closing | None = None

    async def serve(self) -> None:
        """Run until the client leaves, falls behind or signs out, or the server stops."""
        with self.ctx.bus.subscribe() as subscription:
            await self.send_subscribed()
            async with anyio.create_task_group() as group:
                self._group = group
                group.start_soon(self._until_done, self._forward(subscription))
                group.start_soon(self._until_done, self._receive())
                group.start_soon(self._until_done, self._recheck())
        if self._closing is not None:
            await _close(self.websocket, self._closing.code, self._closing.reason)

    async def _until_done(self, work: Awaitable[Closing | None]) -> None:
        """Run one of the connection's tasks; when it ends, the connection ends."""
        try:
            self._closing = await work
        except WebSocketDisconnect:
            pass  # the client is gone: nothing more to send
        except Exception:
            log.exception("event stream failed")
            self._closing = Closing(INTERNAL_ERROR, "The server failed; reconnect.")
        finally:
            self._group.cancel_scope.cancel()

    # -- sending -----------------------------------------------------------------------------

    async def send(self, payload: bytes) -> None:
        async with self._send_lock:
            await self.websocket.send_text(payload.decode())

    async def send_message(self, message: Message) -> None:
        await self.send(message.to_json())

    async def send_error(self, detail: str) -> None:
        await self.send_message(Message("error", "", now_iso(), {"detail": detail}))

    async def send_subscribed(self) -> None:
        data: dict[str, Any] = {**self.filters.public(), "logs": self._followed()}
        await self.send_message(Message("subscribed", "", now_iso(), data))

    def _followed(self) -> list[dict[str, str]]:
        return [{"run": run, "step": step} for run, step in sorted(self._logs)]

    # -- the connection's tasks ------------------------------------------------------------------

    async def _forward(self, subscription: Subscription) -> Closing:
        async for message in subscription:
            if not self.filters.matches(message.type, message.id):
                continue
            if await may_see(self.user, message, self.owners, self.ctx.sessions):
                await self.send(message.to_json())
        if subscription.overflowed:
            return Closing(FELL_BEHIND, "Too many events unread; reconnect and reload the state.")
        return Closing(GOING_AWAY, "The server is shutting down.")

    async def _receive(self) -> None:
        while True:
            received = await self.websocket.receive()
            if received["type"] == "websocket.disconnect":
                return
            text = received.get("text")
            if text is None:
                await self.send_error("send requests as JSON text frames")
                continue
            try:
                request = parse_client_message(text)
                if isinstance(request, FollowLog):
                    await self._follow(request)
                else:
                    self.filters = self.filters.changed(request.update)
                    await self.send_subscribed()
            except FilterError as error:
                await self.send_error(str(error))

    async def _recheck(self) -> Closing:
        while True:
            await anyio.sleep(RECHECK_SECONDS)
            user = await run_in_threadpool(authenticate, self.ctx, self.credentials)
            if user is None:
                return Closing(NOT_SIGNED_IN, "The session ended or the token was revoked.")
            self.user = user

    # -- logs ----------------------------------------------------------------------------------

    async def _follow(self, request: FollowLog) -> None:
        key = (request.run, request.step)
        if not request.follow:
            scope = self._logs.pop(key, None)
            if scope is not None:
                scope.cancel()
            await self.send_subscribed()
            return
        if key in self._logs:
            return
        if len(self._logs) >= MAX_FOLLOWED_LOGS:
            raise FilterError(f"at most {MAX_FOLLOWED_LOGS} logs can be followed at once")
        visible = await may_see_run(self.user, request.run, self.owners)
        sessions = self.ctx.sessions
        if not visible or not await run_in_threadpool(step_progress, sessions, *key):
            raise FilterError(f"there is no step {request.step!r} of a run {request.run} you see")
        self._logs[key] = scope = anyio.CancelScope()
        self._group.start_soon(self._tail, key, scope)
        await self.send_subscribed()

    async def _tail(self, key: tuple[str, str], scope: anyio.CancelScope) -> None:
        try:
            with scope:
                logs = tail_step_log(self.ctx.sessions, self.ctx.settings.data_dir, *key)
                async for message in logs:
                    await self.send_message(message)
        except WebSocketDisconnect:
            self._group.cancel_scope.cancel()
        except Exception:  # the connection outlives one log it could not read
            log.exception("could not follow the log of step %s of run %s", key[1], key[0])
            with contextlib.suppress(WebSocketDisconnect):
                await self.send_error(f"the log of step {key[1]!r} could not be read")
        finally:
            if self._logs.get(key) is scope:
                del self._logs[key]


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    if websocket.application_state == WebSocketState.DISCONNECTED:
        return
    with contextlib.suppress(RuntimeError, OSError):
        await websocket.close(code, reason.encode()[:MAX_REASON_BYTES].decode(errors="ignore"))
