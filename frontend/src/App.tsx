import { BrowserRouter, Navigate, Route, Routes } from "react-router-dom";
import { AuthProvider, useAuth } from "./auth";
import { Layout } from "./components/Layout";
import { Loading } from "./components/ui";
import { Datasets } from "./pages/Datasets";
import { NotFound } from "./pages/NotFound";
import { SignIn } from "./pages/SignIn";
import { Tokens } from "./pages/Tokens";
import { Workspace } from "./workspace/Workspace";

function Routed() {
  const { user, loading } = useAuth();
  if (loading) return <Loading what="Datamill" />;
  if (!user) return <SignIn />;
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<Navigate to="/datasets" replace />} />
        <Route path="datasets" element={<Datasets />} />
        <Route path="datasets/:datasetId" element={<Workspace />} />
        <Route path="tokens" element={<Tokens />} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}

export function App() {
  return (
    <AuthProvider>
      <BrowserRouter>
        <Routed />
      </BrowserRouter>
    </AuthProvider>
  );
}
