import { useState, type FormEvent } from "react";
import { api, unwrap, type Schemas } from "../api/client";
import { ApiError, humanise } from "../api/problem";
import { useAuth } from "../auth";
import { ErrorNote, Loading, formatWhen } from "../components/ui";
import { useLoad } from "../load";

type User = Schemas["UserPublic"];

function NewUser({ onCreated }: { onCreated: () => void }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<"member" | "admin">("member");
  const [error, setError] = useState<unknown>();
  const [fields, setFields] = useState<Record<string, string>>({});

  async function create(event: FormEvent) {
    event.preventDefault();
    setError(undefined);
    setFields({});
    try {
      await unwrap(api.POST("/api/v1/users", { body: { username, password, role } }));
      setUsername("");
      setPassword("");
      onCreated();
    } catch (reason) {
      if (reason instanceof ApiError) {
        setFields(Object.fromEntries(reason.errors.map((e) => [String(e.loc[e.loc.length - 1]), humanise(e.msg)])));
      }
      setError(reason);
    }
  }

  return (
    <form className="card user-form" onSubmit={create} aria-label="New user">
      <h2>New user</h2>
      <div className="user-form-row">
        <label className="field">
          <span className="field-label">Username</span>
          <input value={username} onChange={(e) => setUsername(e.target.value)} required autoComplete="off" />
          {fields.username && <span className="field-error">{fields.username}</span>}
        </label>
        <label className="field">
          <span className="field-label">Password</span>
          <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} required autoComplete="new-password" />
          {fields.password && <span className="field-error">{fields.password}</span>}
        </label>
        <label className="field">
          <span className="field-label">Role</span>
          <select value={role} onChange={(e) => setRole(e.target.value as "member" | "admin")}>
            <option value="member">member</option>
            <option value="admin">admin (registers tasks, manages users)</option>
          </select>
        </label>
        <button type="submit" className="primary">
          Create user
        </button>
      </div>
      <ErrorNote error={error} />
    </form>
  );
}

export function Users() {
  const { user: me } = useAuth();
  const users = useLoad(() => unwrap(api.GET("/api/v1/users", { params: { query: { limit: 500 } } })), []);
  const [error, setError] = useState<unknown>();

  async function change(user: User, body: Schemas["UserUpdate"]) {
    setError(undefined);
    try {
      await unwrap(api.PATCH("/api/v1/users/{username}", { params: { path: { username: user.username } }, body }));
      users.reload();
    } catch (reason) {
      setError(reason);
    }
  }

  return (
    <>
      <NewUser onCreated={users.reload} />
      <ErrorNote error={error ?? users.error} />
      {users.loading && !users.data ? (
        <Loading what="users" />
      ) : (
        <table className="list">
          <thead>
            <tr>
              <th>User</th>
              <th>Role</th>
              <th>Access</th>
              <th>Since</th>
              <th aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {(users.data?.data ?? []).map((user) => (
              <tr key={user.id} className={user.disabled ? "disabled-row" : ""}>
                <td>
                  <strong>{user.username}</strong>
                  {user.username === me?.username && <span className="muted small"> (you)</span>}
                </td>
                <td>
                  <select
                    aria-label={`Role of ${user.username}`}
                    value={user.role}
                    onChange={(e) => void change(user, { role: e.target.value as "member" | "admin" })}
                  >
                    <option value="member">member</option>
                    <option value="admin">admin</option>
                  </select>
                </td>
                <td>{user.disabled ? <span className="danger-text">disabled</span> : "active"}</td>
                <td>{formatWhen(user.created_at)}</td>
                <td className="row-actions">
                  <button
                    type="button"
                    className={user.disabled ? "link" : "link danger-text"}
                    onClick={() => void change(user, { disabled: !user.disabled })}
                  >
                    {user.disabled ? "Enable" : "Disable"}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
