import { useEffect, useRef, useState } from "react";
import { Link, NavLink, Outlet } from "react-router-dom";
import { useAuth } from "../auth";

function UserMenu() {
  const { user, signOut } = useAuth();
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (event: MouseEvent) => {
      if (!box.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", close);
    return () => document.removeEventListener("mousedown", close);
  }, [open]);
  if (!user) return null;
  return (
    <div className="menu" ref={box}>
      <button type="button" className="user-button" aria-haspopup="menu" aria-expanded={open} onClick={() => setOpen(!open)}>
        <span className="avatar" aria-hidden>
          {user.username.slice(0, 1).toUpperCase()}
        </span>
        {user.username}
      </button>
      {open && (
        <div className="menu-list" role="menu">
          <div className="menu-caption">Signed in as {user.role === "admin" ? "an admin" : "a member"}</div>
          <Link role="menuitem" to="/tokens" onClick={() => setOpen(false)}>
            API tokens
          </Link>
          <a href="/api/docs" role="menuitem">
            API reference
          </a>
          <button type="button" role="menuitem" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      )}
    </div>
  );
}

export function Layout() {
  const { user } = useAuth();
  return (
    <div className="app">
      <header className="topbar">
        <Link to="/" className="brand">
          <span className="logo" aria-hidden /> Datamill
        </Link>
        <nav>
          <NavLink to="/datasets">Datasets</NavLink>
          <NavLink to="/pipelines">Pipelines</NavLink>
          <NavLink to="/runs">Runs</NavLink>
          <NavLink to="/workers">Workers</NavLink>
          {user?.role === "admin" && <NavLink to="/admin">Admin</NavLink>}
        </nav>
        <UserMenu />
      </header>
      <Outlet />
    </div>
  );
}
