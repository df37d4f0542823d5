import { Link, NavLink, Outlet } from "react-router-dom";
import { useAuth } from "../auth";
import { Menu } from "./Menu";

function UserMenu() {
  const { user, signOut } = useAuth();
  if (!user) return null;
  return (
    <Menu
      buttonClass="user-button"
      label={
        <>
          <span className="avatar" aria-hidden>
            {user.username.slice(0, 1).toUpperCase()}
          </span>
          {user.username}
        </>
      }
    >
      {(close) => (
        <>
          <div className="menu-caption">Signed in as {user.role === "admin" ? "an admin" : "a member"}</div>
          <Link role="menuitem" to="/tokens" onClick={close}>
            API tokens
          </Link>
          <a href="/api/docs" role="menuitem">
            API reference
          </a>
          <button type="button" role="menuitem" onClick={() => void signOut()}>
            Sign out
          </button>
        </>
      )}
    </Menu>
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
