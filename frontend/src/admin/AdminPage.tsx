import { NavLink, Navigate, Route, Routes } from "react-router-dom";
import { useAuth } from "../auth";
import { Tasks } from "./Tasks";
import { Users } from "./Users";

export function AdminPage() {
  const { user } = useAuth();
  if (user?.role !== "admin") return <Navigate to="/datasets" replace />;
  return (
    <main className="page">
      <div className="page-head">
        <h1>Admin</h1>
      </div>
      <div className="tabs" role="tablist">
        <NavLink to="/admin/users" className="tab" role="tab">
          Users
        </NavLink>
        <NavLink to="/admin/tasks" className="tab" role="tab">
          Tasks
        </NavLink>
      </div>
      <Routes>
        <Route index element={<Navigate to="users" replace />} />
        <Route path="users" element={<Users />} />
        <Route path="tasks" element={<Tasks />} />
      </Routes>
    </main>
  );
}
